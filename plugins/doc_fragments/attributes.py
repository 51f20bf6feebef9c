# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
"""

    ACTION_GROUP_VSPHERE = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/siterecovery.failback.vsphere) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - siterecovery.failback.vsphere
"""

    ACTION_GROUP_AZURE = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/siterecovery.failback.azure) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - siterecovery.failback.azure
"""

    ACTION_GROUP_BOTH = r"""
options: {}
attributes:
  action_group:
    description:
      - Use C(group/siterecovery.failback.azure) and C(group/siterecovery.failback.vsphere) in C(module_defaults)
        to set defaults for this module.
    support: full
    membership:
      - siterecovery.failback.azure
      - siterecovery.failback.vsphere
"""
