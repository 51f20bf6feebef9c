# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one place that imports pyVmomi, so a missing library gives one clear error."""

from __future__ import annotations

from ansible_collections.siterecovery.failback.plugins.module_utils.errors import MissingLibraryError

try:
    from pyVim import connect as pyvim_connect
    from pyVmomi import vim, vmodl
    PYVMOMI_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by the sanity import test
    vim = vmodl = pyvim_connect = None
    PYVMOMI_IMPORT_ERROR = exc

__all__ = ("PYVMOMI_IMPORT_ERROR", "pyvim_connect", "require_pyvmomi", "vim", "vmodl")


def require_pyvmomi():
    if PYVMOMI_IMPORT_ERROR is not None:
        raise MissingLibraryError("pyvmomi", PYVMOMI_IMPORT_ERROR)
