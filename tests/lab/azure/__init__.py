# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's Azure emulator: Entra ID, ARM Compute/Network and Site Recovery over HTTPS.

    emulator = AzureEmulator(spec, effects=None, workdir=DIR)   # spec: spec.load(path)
    emulator.start()            # returns once it serves; .url, .port, .ca_file
    os.environ.update(emulator.env())
    ...
    emulator.stop()

``effects`` is a ``VCenterEffects`` (or anything with its methods); with None no vCenter side
effects happen. The control API is at ``LAB_CONTROL_URL`` (see control.py).
"""

import os
import re
import tempfile
import threading

from .aad import Directory
from .asr.actions import Actions
from .asr.flows import Flows
from .asr.plans import PlanFlows
from .asr.reads import Reads
from .asr.state import World
from .blob import BlobService
from .compute import Compute
from .control import Control, Faults
from .jobs import Engine
from .server import App, Router, serve
from .tls import make_tls

__all__ = ["AzureEmulator"]


class AzureEmulator:
    def __init__(self, spec, effects=None, workdir=None, host="127.0.0.1", port=0):
        self.spec = spec
        self.effects = effects
        self.workdir = workdir or tempfile.mkdtemp(prefix="lab-azure-")
        self.host = host
        self.requested_port = port
        self.port = None
        self.url = None
        self.ca_file = None
        self.server = None
        self.thread = None
        self.lock = threading.RLock()
        self.compute = Compute(spec, self.lock)
        self.world = World(spec, self.compute, self.lock)
        self.engine = Engine(self.world, effects)
        self.flows = Flows(self.world, self.engine, effects)
        self.actions = Actions(self.world, self.engine, self.flows, PlanFlows(self.world, self.flows))
        self.directory = Directory(spec["azure"])
        self.faults = Faults()
        self.blob = BlobService(spec, self.directory)
        self.faults.blob_paths = re.compile(self.blob.path_regex(), re.IGNORECASE)
        router = Router()
        self.directory.register(router)
        self.compute.register(router)
        Reads(self.world, self.actions).register(router)
        Control(self).register(router)
        self.blob.register(router)
        self.app = App(router, self.directory.authenticate, self.faults,
                       log_file=os.path.join(self.workdir, "azure-emulator.log"))

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        paths = make_tls(self.workdir, hosts=(self.host, "localhost") if self.host != "localhost" else ("localhost",))
        self.ca_file = paths["ca"]
        self.server, self.thread = serve(self.app, self.host, self.requested_port, paths["cert"], paths["key"])
        self.port = self.server.server_address[1]
        self.url = "https://%s:%d" % (self.host, self.port)
        self.app.base_url = self.url
        return self

    def stop(self):
        self.engine.stop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def env(self):
        azure = self.spec["azure"]
        return {"AZURE_SUBSCRIPTION_ID": azure["subscription_id"], "AZURE_TENANT": azure["tenant"],
                "AZURE_CLIENT_ID": azure["client_id"], "AZURE_SECRET": azure["secret"],
                "AZURE_ARM_ENDPOINT": self.url, "AZURE_AUTHORITY_HOST": self.url, "AZURE_CA_BUNDLE": self.ca_file,
                "AZURE_SITE_RECOVERY_RESOURCE_GROUP": self.spec["asr"]["resource_group"],
                "AZURE_SITE_RECOVERY_VAULT": self.spec["asr"]["vault"], "LAB_CONTROL_URL": self.url + "/_lab"}

    def state(self):
        state = self.world.state()
        state["compute"] = self.compute.state()
        state["timings"] = dict(self.spec["timings"])
        state["faults"] = self.faults.describe()
        state["blobs"] = self.blob.state()
        return state

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
