# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-collector reads with explicit paths: one round trip for N objects.

Never read pyVmomi properties lazily in a loop: each attribute access is a
round trip (and on some servers an unset property breaks the request).
"""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.errors import fault_name, from_exception
from ansible_collections.siterecovery.failback.plugins.module_utils.vsphere.sdk import vim, vmodl


def filter_spec(obj_type, paths, objects=None, view=None):
    """Build the PropertyFilterSpec for a container view (all obj_type) or explicit objects."""
    pc = vmodl.query.PropertyCollector
    paths = list(paths)
    if objects is not None:
        object_set = [pc.ObjectSpec(obj=obj, skip=False) for obj in objects]
        types = []
        for obj in objects:
            if type(obj) not in types:
                types.append(type(obj))
        prop_set = [pc.PropertySpec(type=t, pathSet=paths, all=False) for t in types]
    else:
        traversal = pc.TraversalSpec(name="traverseView", path="view", skip=False, type=vim.view.ContainerView)
        object_set = [pc.ObjectSpec(obj=view, skip=True, selectSet=[traversal])]
        prop_set = [pc.PropertySpec(type=obj_type, pathSet=paths, all=False)]
    return pc.FilterSpec(objectSet=object_set, propSet=prop_set, reportMissingObjectsInResults=False)


def to_row(object_content, paths):
    """One ObjectContent -> {"obj", "moid", path: value, ..., "missing": {path: fault}}."""
    row = {"obj": object_content.obj, "moid": object_content.obj._moId}
    for path in paths:
        row[path] = None
    for prop in object_content.propSet or []:
        row[prop.name] = prop.val
    missing = {}
    for miss in object_content.missingSet or []:
        missing[miss.path] = fault_name(miss.fault)
    row["missing"] = missing
    return row


def retrieve(content, obj_type, paths, objects=None, container=None):
    """Read paths for all objects of obj_type below container (default: the root folder),
    or for the given objects; pages through large results with ContinueRetrievePropertiesEx."""
    if objects is not None and not objects:
        return []
    collector = content.propertyCollector
    view = None
    try:
        if objects is None:
            view = content.viewManager.CreateContainerView(container or content.rootFolder, [obj_type], True)
        spec = filter_spec(obj_type, paths, objects=objects, view=view)
        rows = []
        result = collector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
        while result is not None:
            rows.extend(to_row(obj, paths) for obj in result.objects or [])
            if not result.token:
                break
            result = collector.ContinueRetrievePropertiesEx(result.token)
        return rows
    except Exception as exc:  # pylint: disable=broad-except  # one readable error for any read failure
        what = getattr(obj_type, "__name__", "objects").rsplit(".", 1)[-1] if obj_type else "objects"
        raise from_exception(exc, "read %s (%s)" % (what, ", ".join(paths))) from exc
    finally:
        if view is not None:
            try:
                view.Destroy()
            except Exception:  # pylint: disable=broad-except  # the read already succeeded or failed
                pass
