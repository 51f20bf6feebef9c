# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Azure Site Recovery for the lab: classic VMware/physical to Azure (InMageAzureV2 and InMage) and the
modernized flow (replication appliance; InMageRcm and InMageRcmFailback, the modern_*.py files)."""
