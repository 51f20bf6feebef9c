# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A whole lab from one spec: the vCenter simulator, standalone ESXi simulators, the side
effects and the Azure emulator, with the environment a user or a test exports."""

import json
import os
import tempfile

from tests.lab import dvs
from tests.lab import spec as specmod
from tests.lab.effects import VCenterEffects
from tests.lab.vcenter import Simulator


class Lab:
    """``with Lab("default.yml") as lab: lab.env()`` — everything started, everything stopped."""

    def __init__(self, spec_path, workdir=None, overrides=None):
        raw = specmod.read(spec_path)
        if overrides:
            raw = specmod.merge(raw, overrides)
        self.spec = specmod.normalize(raw)
        self.workdir = workdir or tempfile.mkdtemp(prefix="lab-%s-" % self.spec["name"])
        self.simulators = {}
        self.effects = None
        self.azure = None

    def start(self):
        try:
            for key, inventory in specmod.launcher_inventories(self.spec).items():
                path = os.path.join(self.workdir, "%s.json" % key.replace("/", "_"))
                with open(path, "w") as handle:
                    json.dump(inventory, handle)
                simulator = Simulator(path, workdir=os.path.join(self.workdir, key))
                os.makedirs(simulator.workdir, exist_ok=True)
                simulator.start()
                self.simulators[key] = simulator
            dvs.apply(self.simulators["vcenter"].info, self.spec)  # the spec's distributed switches, if any
            self.effects = VCenterEffects({key: sim.info for key, sim in self.simulators.items()}, spec=self.spec)
            from tests.lab.azure import AzureEmulator
            self.azure = AzureEmulator(self.spec, effects=self.effects, workdir=os.path.join(self.workdir, "azure"))
            self.azure.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        if self.azure is not None:
            self.azure.stop()
            self.azure = None
        if self.effects is not None:
            self.effects.close()
            self.effects = None
        for simulator in self.simulators.values():
            simulator.stop()
        self.simulators = {}

    def env(self):
        """The variables to export: VMWARE_* for the vCenter, AZURE_* and LAB_CONTROL_URL,
        plus LAB_ESX_<NAME>_* for each standalone ESXi host."""
        env = dict(self.simulators["vcenter"].env())
        for key, simulator in self.simulators.items():
            if key != "vcenter":
                prefix = "LAB_ESX_%s_" % key.split(".")[0].upper().replace("-", "_")
                env.update({prefix + name[len("VMWARE_"):]: value for name, value in simulator.env().items()})
        if self.azure is not None:
            env.update(self.azure.env())
        return env

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
