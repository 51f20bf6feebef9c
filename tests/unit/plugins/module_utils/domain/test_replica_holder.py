# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which VM may hand a failed-back VM one of its own VMDKs (issue 15): only the master target Site Recovery names
for its item, or the one the user names; every other holder is refused with the VM, the VMDK, the rule and the fix."""

import pytest

from ansible_collections.siterecovery.failback.plugins.module_utils.domain import replica_holder

WEB1 = "[vmfs-01] web02/web02_1.vmdk"


@pytest.mark.parametrize("item_mt, given", [("mt-lin01", None), (None, "mt-lin01"), ("mt-lin01", "mt-lin01"),
                                            ("mt-win01", "mt-lin01")])
def test_the_master_target_of_the_item_or_the_one_given_hands_the_vmdk_over(item_mt, given):
    assert replica_holder.decide("web02", WEB1, "mt-lin01", item_mt, given) == (replica_holder.TAKE, None)


def test_another_vm_than_the_master_target_of_the_item_is_refused_with_the_fix():
    verdict, sentence = replica_holder.decide("web02", WEB1, "web02-old", "mt-lin01")
    assert verdict == replica_holder.REFUSE
    assert sentence == (
        "VM web02: its VMDK [vmfs-01] web02/web02_1.vmdk is attached to VM web02-old. Site Recovery names master target "
        "mt-lin01 for its item, and a VMDK of the VM is taken only off that one: web02-old is not it. If web02-old holds "
        "it by mistake, detach it from web02-old without deleting it and re-run; if web02-old holds Site Recovery's "
        "replica, give master_target: web02-old for web02.")


@pytest.mark.parametrize("item_mt, given", [(None, None), ("", ""), (None, "mt-win01")])
def test_without_a_master_target_naming_the_holder_the_vmdk_is_never_taken(item_mt, given):
    verdict, sentence = replica_holder.decide("web02", WEB1, "mt-lin01", item_mt, given)
    assert verdict == replica_holder.REFUSE
    assert sentence.startswith("VM web02: its VMDK [vmfs-01] web02/web02_1.vmdk is attached to VM mt-lin01. ")
    assert "give master_target: mt-lin01 for web02" in sentence and "without deleting it" in sentence


def test_no_holder_is_never_a_master_target():
    # an empty holder name never matches an empty master target name
    assert replica_holder.decide("web02", WEB1, "", "", "")[0] == replica_holder.REFUSE
