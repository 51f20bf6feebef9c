# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which calls reached the lab, and which of them could have changed something.

The vCenter launcher counts every request by SOAP method (``GET /_lab/soap-calls``, see
vcsim/labcalls.go); the Azure emulator counts every request by method and path (``GET
/_lab/stats``). ``CallWatch`` takes a mark of both and later answers what arrived since, and
``mutations()`` keeps only the calls that could change something:

* vSphere: every SOAP method that is not in ``READ_ONLY_SOAP`` (reads, the property collector,
  views, sessions) - unknown methods count as mutating, so the list fails safe - and every
  non-SOAP request that is not a GET (a datastore file upload or delete);
* Azure: every PUT, PATCH, POST or DELETE to an ARM path (the control API under ``/_lab/`` and
  the Entra ID token endpoint are not ARM).
"""

import json
import re
import ssl
import urllib.request

# SOAP methods that read or manage the session/view state only; everything else is mutating.
READ_ONLY_SOAP = frozenset({
    # service and session
    "RetrieveServiceContent", "Login", "LoginByToken", "LoginExtensionByCertificate", "Logout", "SessionIsActive",
    "CurrentTime", "RetrieveInternalContent", "QueryServiceList",
    # property collector
    "RetrieveProperties", "RetrievePropertiesEx", "ContinueRetrievePropertiesEx", "CancelRetrievePropertiesEx",
    "Fetch", "WaitForUpdates", "WaitForUpdatesEx", "CheckForUpdates", "CancelWaitForUpdates",
    "CreateFilter", "DestroyPropertyFilter", "CreatePropertyCollector", "DestroyPropertyCollector",
    # views (client-side cursors, not inventory)
    "CreateContainerView", "CreateListView", "CreateListViewFromView", "CreateInventoryView", "DestroyView",
    # searches and queries
    "FindByUuid", "FindAllByUuid", "FindByInventoryPath", "FindByIp", "FindAllByIp", "FindByDnsName",
    "FindAllByDnsName", "FindChild", "QueryConfigOption", "QueryConfigOptionDescriptor", "QueryConfigTarget",
    "QueryVirtualDiskUuid", "QueryPerf", "QueryAvailablePerfMetric", "QueryPerfProviderSummary",
    "QueryMemoryOverheadEx", "ValidateMigration", "QueryVMotionCompatibility", "QueryDatastorePerformanceSummary",
    # datastore browsing: tasks by form, reads by effect
    "SearchDatastore_Task", "SearchDatastoreSubFolders_Task",
})

ARM_WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")
TOKEN_PATH = re.compile(r"/oauth2/(?:v2\.0/)?token$")


def is_mutating_soap(key):
    """True for a counter key that could change the vCenter: a SOAP method not known to be a read,
    an unparsed POST, or a non-GET HTTP request ("HTTP PUT /folder/...")."""
    return key not in READ_ONLY_SOAP


def is_arm_write(key):
    """True for an emulator stats key ("METHOD /path") that is a write to an ARM path."""
    method, _space, path = key.partition(" ")
    return method in ARM_WRITE_METHODS and not path.startswith("/_lab/") and not TOKEN_PATH.search(path)


def _get_json(url, ca_file, method="GET"):
    context = ssl.create_default_context(cafile=ca_file)
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        data = response.read()
    return json.loads(data) if data else None


def soap_calls(info):
    """The launcher's counts {method: count} since it started (or was reset); ``info`` is its ready line."""
    return _get_json("https://%s:%d/_lab/soap-calls" % (info["host"], info["port"]), info["ca_file"])


def reset_soap_calls(info):
    _get_json("https://%s:%d/_lab/soap-calls" % (info["host"], info["port"]), info["ca_file"], method="DELETE")


def arm_calls(control_url, ca_file):
    """The emulator's counts {"METHOD /path": count}; ``control_url`` is LAB_CONTROL_URL."""
    return _get_json(control_url.rstrip("/") + "/stats", ca_file)["requests"]


def _diff(now, before):
    return {key: count - before.get(key, 0) for key, count in sorted(now.items()) if count > before.get(key, 0)}


class CallWatch:
    """Calls that reached the lab since ``mark()`` (called on creation).

    ``simulators``: ready lines (``Simulator.info``) of the vCenter/ESXi launchers to watch;
    ``control_url``/``ca_file``: the Azure emulator's control API, or None for a vCenter-only lab.
    """

    def __init__(self, simulators=(), control_url=None, ca_file=None):
        self.simulators = dict(simulators)
        self.control_url = control_url
        self.ca_file = ca_file
        self.mark()

    @classmethod
    def of(cls, target):
        """A watch over a ``Lab`` (every launcher and the emulator) or a single ``Simulator``."""
        if hasattr(target, "simulators"):
            env = target.env()
            return cls({key: sim.info for key, sim in target.simulators.items()},
                       env.get("LAB_CONTROL_URL"), env.get("AZURE_CA_BUNDLE"))
        return cls({"vcenter": target.info})

    def _now(self):
        soap = {key: soap_calls(info) for key, info in self.simulators.items()}
        arm = arm_calls(self.control_url, self.ca_file) if self.control_url else {}
        return soap, arm

    def mark(self):
        self._soap, self._arm = self._now()
        return self

    def since(self):
        """Every call since the mark: {"soap": {simulator: {method: n}}, "arm": {"METHOD /path": n}}."""
        soap, arm = self._now()
        return {"soap": {key: _diff(counts, self._soap.get(key, {})) for key, counts in soap.items()},
                "arm": _diff(arm, self._arm)}

    def mutations(self, calls=None):
        """The calls since the mark (or in ``calls``, a ``since()`` answer) that could have changed
        something, shaped like ``since()`` without empty simulators: NO_MUTATIONS when none."""
        calls = self.since() if calls is None else calls
        soap = {}
        for key, counts in calls["soap"].items():
            mutating = {method: n for method, n in counts.items() if is_mutating_soap(method)}
            if mutating:
                soap[key] = mutating
        return {"soap": soap, "arm": {key: n for key, n in calls["arm"].items() if is_arm_write(key)}}


NO_MUTATIONS = {"soap": {}, "arm": {}}
