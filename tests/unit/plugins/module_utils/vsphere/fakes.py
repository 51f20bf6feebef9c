# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fakes for vSphere unit tests: real pyVmomi managed-object references, fake server calls."""

from pyVmomi import vim, vmodl


def moref(cls, moid):
    """A real pyVmomi managed-object reference with no server behind it."""
    return cls(moid)


def object_content(obj, props, missing=None):
    pc = vmodl.query.PropertyCollector
    return pc.ObjectContent(
        obj=obj,
        propSet=[vmodl.DynamicProperty(name=name, val=value) for name, value in props.items()],
        missingSet=[pc.MissingProperty(path=path, fault=fault) for path, fault in (missing or {}).items()],
    )


class FakeCollector:
    """Answers RetrievePropertiesEx from ``pages`` (lists of ObjectContent), recording each spec."""

    def __init__(self, pages, error=None):
        self.pages = list(pages)
        self.error = error
        self.specs = []
        self.calls = 0

    def _page(self, index):
        token = str(index + 1) if index + 1 < len(self.pages) else None
        return vmodl.query.PropertyCollector.RetrieveResult(objects=self.pages[index], token=token)

    def RetrievePropertiesEx(self, specs, options):
        self.calls += 1
        self.specs.append(specs)
        if self.error is not None:
            raise self.error
        return self._page(0) if self.pages else None

    def ContinueRetrievePropertiesEx(self, token):
        self.calls += 1
        return self._page(int(token))


class FakeView(vim.view.ContainerView):
    """A real ContainerView type (the filter spec checks it) whose Destroy makes no call."""

    destroyed = False

    def Destroy(self):
        type(self).destroyed_ids.append(self._moId)

    destroyed_ids = []


class FakeViewManager:
    def __init__(self):
        self.views = []
        self.requests = []

    def CreateContainerView(self, container, types, recursive):
        self.requests.append((container, types, recursive))
        view = FakeView("session[test]view-%d" % len(self.views))
        self.views.append(view)
        return view


class FakeContent:
    def __init__(self, collector):
        self.propertyCollector = collector
        self.viewManager = FakeViewManager()
        self.rootFolder = moref(vim.Folder, "group-d1")


class FakeClient:
    """Stands in for VSphereClient.retrieve: rows come from ``responder(obj_type, paths, objects)``."""

    def __init__(self, responder):
        self.responder = responder
        self.calls = []
        self.stats = {"property_reads": 0}

    def retrieve(self, obj_type, paths, objects=None, container=None):
        self.stats["property_reads"] += 1
        self.calls.append((obj_type, tuple(paths), tuple(objects) if objects is not None else None))
        return self.responder(obj_type, paths, objects)


__all__ = ["vim"]
