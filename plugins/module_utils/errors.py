# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exceptions shared by the Ansible-free clients (no Ansible imports here).

Every error carries a message that names the object, the rule and the fix, plus
structured ``details`` that modules return to the user as ``error``.
"""

from __future__ import annotations


class FailbackError(Exception):
    """Base class: ``msg`` for people, ``details`` (a dict) for machines."""

    kind = "failback"

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details

    def to_dict(self):
        result = {"kind": self.kind, "message": self.msg}
        result.update(self.details)
        return result


class MissingLibraryError(FailbackError):
    """A Python library the controller needs is not installed."""

    kind = "missing_library"

    def __init__(self, library, exception=None):
        msg = ("The Python library '%s' is required on the controller (see the collection's requirements.txt): %s"
               % (library, exception))
        super().__init__(msg, library=library)
        self.library = library


class DeadlineExceeded(FailbackError):
    """A wait ran out of time; ``partial`` holds what was known when it expired."""

    kind = "deadline_exceeded"

    def __init__(self, msg, partial=None, **details):
        super().__init__(msg, **details)
        self.partial = partial

    def to_dict(self):
        result = super().to_dict()
        if self.partial is not None:
            result["partial"] = self.partial
        return result
