# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the emulator does to keep up with 1,000 VMs changes nothing a client sees: a paged list serves every item
once, in order, with the bodies of an unpaged one; recovery points made on read come in the order and with the
names, times and kinds of the full sorted list."""

import random
import uuid

from tests.lab.azure.asr.state import Points
from tests.lab.azure.compute import iso


def _listed(lab):
    """Every item of the vault-wide list, followed through nextLink; the number of requests it took."""
    lab.control("DELETE", "/stats")
    items = list(lab.asr.replication_protected_items.list(lab.rg, lab.vault))
    counts = lab.control("GET", "/stats")["requests"]
    requests = sum(n for key, n in counts.items() if key.endswith("/replicationProtectedItems"))
    return items, requests


def _stable(body):
    """An item body without the values that move with the clock (RPO, heartbeats, times of the newest point)."""
    details = body["properties"]["providerSpecificDetails"]
    return (body["id"], body["properties"]["protectionState"], details["instanceType"], details.get("vmId"),
            body["properties"]["allowedOperations"])


def test_the_item_list_pages_with_next_link_and_serves_every_item_once(lab_factory):
    whole, whole_requests = _listed(lab_factory())
    paged_lab = lab_factory({"timings": {"page_size": 1}})
    paged, paged_requests = _listed(paged_lab)
    assert whole_requests == 1
    assert len(whole) >= 3
    assert paged_requests == len(whole)  # one page per item, each but the last with a nextLink
    assert [i.properties.friendly_name for i in paged] == [i.properties.friendly_name for i in whole]
    assert [_stable(i.as_dict()) for i in paged] == [_stable(i.as_dict()) for i in whole]


def _reference(fixed, generated):
    """The recovery points as a plain list: every generated point made, then all sorted newest first."""
    name, seq, first, period, every, low, count = generated
    made = [{"name": str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%s/%d" % (name, seq, index))),
             "time": iso(first + index * period), "epoch": first + index * period,
             "type": "ApplicationConsistent" if (index + 1) % every == 0 else "CrashConsistent"}
            for index in range(low, count)]
    return sorted(list(fixed) + made, key=lambda p: p["epoch"], reverse=True)


def test_points_made_on_read_match_the_full_sorted_list():
    draw = random.Random(17)
    for _case in range(400):
        first = 1.7e9 + draw.random()
        period = draw.choice([0.2, 1.0, 3.3])
        count = draw.randint(0, 30)
        generated = ("item-%d" % draw.randint(0, 9), draw.randint(1, 3), first, period, draw.randint(1, 3),
                     max(0, count - draw.randint(0, 40)), count)
        fixed = [{"name": "fixed-%d" % k, "time": "t%d" % k, "type": "CrashConsistent",
                  "epoch": draw.choice([first - 600, first + 999, first + draw.randint(-3, 33) * period,
                                        first + draw.random() * 30 * period])}
                 for k in range(draw.randint(0, 4))]
        expected = _reference(fixed, generated)
        points = Points(fixed, generated)
        assert list(points) == expected
        assert len(points) == len(expected)
        assert bool(points) == bool(expected)
        if expected:
            assert points[0] == expected[0]
            assert points[-1] == expected[-1]
            assert points[1:4] == expected[1:4]


def test_points_without_replication_are_the_fixed_ones_newest_first():
    fixed = [{"name": "a", "epoch": 1.0}, {"name": "b", "epoch": 3.0}, {"name": "c", "epoch": 2.0}]
    assert [p["name"] for p in Points(fixed, None)] == ["b", "c", "a"]
    assert not Points([], None)
