# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failover module's vSphere side (pin before the jobs, record after): absent without a vSphere server, and a
vSphere error becomes each VM's problem (the failover goes on and warns) instead of ending the module."""

from types import SimpleNamespace

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere import onprem
from ansible_collections.siterecovery.failback.plugins.modules import failover

ENTRIES = [{"name": "app01", "pins_from": "mt-win01"}, {"name": "web02", "pins_from": None}]


def module(hostname, vsphere):
    return SimpleNamespace(params={"hostname": hostname}, vsphere=vsphere)


@pytest.mark.parametrize("step", ["pin_replicas", "record_disks"])
def test_without_a_vsphere_server_nothing_is_pinned_nor_recorded(step):
    assert failover.on_vsphere(module(None, None), None, step) is None


@pytest.mark.parametrize("step", ["pin_replicas", "record_disks"])
def test_a_vsphere_error_is_each_vms_problem(step):
    def unreachable():
        raise FailbackError("vCenter vc01 is unreachable")
    call = failover.on_vsphere(module("vc01", unreachable), None, step)
    assert call(ENTRIES) == {"app01": "vCenter vc01 is unreachable", "web02": "vCenter vc01 is unreachable"}


@pytest.mark.parametrize("step", ["pin_replicas", "record_disks"])
def test_the_step_runs_on_the_modules_vsphere_with_the_entries(monkeypatch, step):
    seen = []
    monkeypatch.setattr(onprem, step, lambda client, entries, deadline: seen.append((client, entries, deadline)) or {})
    assert failover.on_vsphere(module("vc01", lambda: "client"), "deadline", step)(ENTRIES) == {}
    assert seen == [("client", ENTRIES, "deadline")]
