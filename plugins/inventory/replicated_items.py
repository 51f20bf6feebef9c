# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: replicated_items
short_description: One host per Azure Site Recovery replicated item, grouped by failback stage, plan and group
version_added: 0.2.0
description:
  - Makes one host per replicated (protected) item of the Recovery Services vaults given, named after the VM (the
    name the failback roles take in C(original_location_vms) / C(alternate_location_vms)), with the item's failback
    stage (the names M(siterecovery.failback.replicated_item_info) reports as C(failback_stage)), provider, flow,
    OS, recovery plans and boot groups, replication group, Azure VM id, on-premises VM UUID, master target or
    replication appliance, and latest recovery point with its age.
  - Puts every host in the group C(replicated_items), the failback playbooks' default host pattern (see
    C(docs/failback.md) - the play's hosts are the run's VMs), and groups it by stage (C(asr_stage_running_in_azure)),
    recovery plan (C(asr_plan_rp_app)) and boot group (C(asr_plan_rp_app_boot_group_1); 0 is the plan's failover
    group), replication group
    (C(asr_replication_group_rg_app)), OS (C(asr_os_windows), C(asr_os_linux), C(asr_os_unknown)), source type
    (C(asr_source_vmware_vm), C(asr_source_physical), C(asr_source_unknown)) and flow (C(asr_flow_classic),
    C(asr_flow_modernized)); O(keyed_groups), O(groups) and O(compose) add more (see P(ansible.builtin.constructed#inventory)).
  - "Reads each vault in a fixed number of Azure Resource Manager calls, whatever the number of items: the item list
    (one call per page of the service's page size), the recovery plan list; with O(details) also the fabric list,
    then one item GET and one recovery point list per item."
  - The item list leaves some provider details empty (the same items read a second later with a GET carry them).
    Without O(details) these host variables are null where named; O(details=true) reads them. They are
    C(asr_os_type) and C(asr_master_target) of classic failback items (provider V(InMage)), C(asr_disk_count) of
    every item, and C(asr_latest_recovery_point) of failback items (V(InMage), V(InMageRcmFailback)), whose points
    are listed per item; forward items (V(InMageAzureV2), V(InMageRcm)) name their latest point in the list,
    without its type.
  - Host names are the VM names. A VM name with white space or a character host patterns give a meaning to
    (comma, colon, C(!), C(&), C(*), C(?), brackets, C(~), slashes, quotes, C(=)) has each replaced by C(_); a VM
    name several items share (two vaults, or an item whose protection was enabled again) becomes
    C(<name>_<item ARM name>) for each (C(<name>_<resource group>_<vault>_<item ARM name>) where two vaults hold the
    same item name). C(asr_vm_name) always holds the VM name and C(asr_host_name_changed) the reason
    (V(invalid_characters), V(duplicate_vm_name)) or null; the roles refuse a VM name two items share.
  - Hosts get C(ansible_connection=local) (O(local_connection)), because a host stands for a replicated item, and
    every task of a failback runs on the controller.
  - No credential, token or secret is put in a host variable or in the cache; the cache holds the records without
    their ages, which are computed when the inventory is read.
author:
  - Site Recovery Failback maintainers (@siterecovery)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
  - siterecovery.failback.azure.PLUGIN
options:
  plugin:
    description: The name of this plugin; the file's name must end in C(replicated_items.yml) or C(replicated_items.yaml).
    type: str
    required: true
    choices: [siterecovery.failback.replicated_items]
  resource_group:
    description:
      - The resource group of the Recovery Services vault, when one vault is read (else see O(vaults)).
    type: str
    env:
      - name: AZURE_SITE_RECOVERY_RESOURCE_GROUP
  vault_name:
    description:
      - The name of the Recovery Services vault, with O(resource_group).
    type: str
    env:
      - name: AZURE_SITE_RECOVERY_VAULT
  vaults:
    description:
      - Several vaults of the subscription, each with C(resource_group) and C(vault_name); read one after the other.
      - Adds to O(resource_group) / O(vault_name).
    type: list
    elements: dict
    default: []
  details:
    description:
      - Read each item with a GET and list its recovery points (two calls per item, at most O(details_concurrency) at
        once, plus one fabric list per vault), for the host variables the item list leaves empty (see the
        description).
    type: bool
    default: false
  details_concurrency:
    description: With O(details) - how many item reads run at once, 1 to 32.
    type: int
    default: 8
  filters:
    description:
      - Jinja2 expressions over a host's C(asr_*) variables; a replicated item becomes a host only when every one is
        true, for example V(asr_stage != 'protected_to_azure') or V('rp-app' in asr_recovery_plans).
    type: list
    elements: str
    default: []
  local_connection:
    description: Give every host C(ansible_connection=local).
    type: bool
    default: true
  timeout:
    description:
      - Seconds the reads of one vault may take, 1 to 3600; throttled reads (HTTP 429) are retried within it.
    type: int
    default: 300
notes:
  - Ages (C(asr_latest_recovery_point_age_minutes)) are computed against the controller's clock.
  - For the user name and password form of AWX's Microsoft Azure Resource Manager credential, see O(ad_user).
"""

EXAMPLES = r"""
# AWX / Automation Controller: an inventory source "Sourced from a Project" whose file is
# inventories/dr.replicated_items.yml, with the "Microsoft Azure Resource Manager" credential attached
# (it injects AZURE_SUBSCRIPTION_ID and the service principal or AZURE_AD_USER / AZURE_PASSWORD).
plugin: siterecovery.failback.replicated_items
resource_group: rg-dr
vault_name: vault-dr
details: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/replicated_items_cache
cache_timeout: 300
filters:
  - asr_stage != 'protected_to_azure'
keyed_groups:
  - key: asr_azure_vm_resource_group
    prefix: azure_rg
groups:
  ready_to_fail_back: asr_stage == 'replicating_to_onprem'
compose:
  asr_rpo_exceeded: (asr_latest_recovery_point_age_minutes or 0) > 30

# Two vaults, only the items of one recovery plan
# plugin: siterecovery.failback.replicated_items
# vaults:
#   - {resource_group: rg-dr-weu, vault_name: vault-weu}
#   - {resource_group: rg-dr-neu, vault_name: vault-neu}
# filters:
#   - "'rp-app' in asr_recovery_plans"
"""

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.siterecovery.failback.plugins.module_utils.asr import inventory as asr_inventory
from ansible_collections.siterecovery.failback.plugins.module_utils.azure.credentials import AzureParams
from ansible_collections.siterecovery.failback.plugins.module_utils.errors import FailbackError

AZURE_OPTIONS = ("auth_source", "subscription_id", "tenant", "client_id", "secret", "x509_certificate_path",
                 "x509_certificate_password", "ad_user", "ad_password", "cloud_environment", "arm_endpoint",
                 "authority_host", "ca_bundle")


def vaults_of(resource_group, vault_name, vaults):
    """``[(resource group, vault name)]`` the options name, each once; raises ValueError naming the option and the
    fix when none is given or one is incomplete."""
    wanted = []
    if resource_group or vault_name:
        if not (resource_group and vault_name):
            missing = "vault_name" if resource_group else "resource_group"
            raise ValueError("resource_group and vault_name go together (AZURE_SITE_RECOVERY_RESOURCE_GROUP, "
                             "AZURE_SITE_RECOVERY_VAULT): %s is missing." % missing)
        wanted.append((resource_group, vault_name))
    for index, entry in enumerate(vaults or []):
        if not isinstance(entry, dict) or not entry.get("resource_group") or not entry.get("vault_name"):
            raise ValueError("vaults[%d] needs resource_group and vault_name, for example {resource_group: rg-dr, "
                             "vault_name: vault-dr}; got %r." % (index, entry))
        unknown = sorted(set(entry) - {"resource_group", "vault_name"})
        if unknown:
            raise ValueError("vaults[%d] has unknown keys %s: only resource_group and vault_name." % (index, ", ".join(unknown)))
        wanted.append((entry["resource_group"], entry["vault_name"]))
    if not wanted:
        raise ValueError("No vault given: set resource_group and vault_name (or AZURE_SITE_RECOVERY_RESOURCE_GROUP and "
                         "AZURE_SITE_RECOVERY_VAULT), or vaults.")
    seen = []
    for key in wanted:
        if key[0].lower() + "/" + key[1].lower() not in [s[0].lower() + "/" + s[1].lower() for s in seen]:
            seen.append(key)
    return seen


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Replicated items as hosts (see DOCUMENTATION); the reads are asr.inventory's, the cache Ansible's."""

    NAME = "siterecovery.failback.replicated_items"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("replicated_items.yml", "replicated_items.yaml"))

    def _session(self, timeout):
        from ansible_collections.siterecovery.failback.plugins.module_utils.azure.session import AzureSession
        from ansible_collections.siterecovery.failback.plugins.module_utils.deadline import Deadline
        params = AzureParams(**{name: self.get_option(name) for name in AZURE_OPTIONS})
        return AzureSession(params, deadline=Deadline(timeout))

    def _read(self):
        """The records of every vault (asr.inventory.read_vault), in the order the options name the vaults."""
        from ansible_collections.siterecovery.failback.plugins.module_utils.asr.vault import Vault
        try:
            wanted = vaults_of(self.get_option("resource_group"), self.get_option("vault_name"), self.get_option("vaults"))
        except ValueError as error:
            raise AnsibleParserError("replicated_items: %s" % error) from None
        timeout, concurrency = self.get_option("timeout"), self.get_option("details_concurrency")
        if not 1 <= timeout <= 3600:
            raise AnsibleParserError("replicated_items: timeout %s is out of range: give 1 to 3600 seconds." % timeout)
        if not 1 <= concurrency <= 32:
            raise AnsibleParserError("replicated_items: details_concurrency %s is out of range: give 1 to 32." % concurrency)
        records = []
        for resource_group, vault_name in wanted:
            session = None
            try:
                session = self._session(timeout)
                vault = Vault(session, resource_group, vault_name)
                records.extend(asr_inventory.read_vault(vault, details=self.get_option("details"), concurrency=concurrency))
            except FailbackError as error:
                raise AnsibleParserError("replicated_items: vault %s/%s: %s" % (resource_group, vault_name, error.msg)) from None
            finally:
                if session is not None:
                    session.close()
        return records

    def _keep(self, host, variables):
        for expression in self.get_option("filters"):
            try:
                if not self._compose(expression, variables):
                    return False
            except Exception as error:  # pylint: disable=broad-except  # any template error names the filter
                raise AnsibleParserError("replicated_items: filter %r failed on host %s: %s; a filter is a Jinja2 "
                                         "expression over the asr_* variables, e.g. asr_stage == 'running_in_azure'."
                                         % (expression, host, error)) from None
        return True

    def _populate(self, records):
        strict = self.get_option("strict")
        for host, variables in asr_inventory.host_names(asr_inventory.with_ages(records)):
            if not self._keep(host, variables):
                continue
            self.inventory.add_host(host)
            if self.get_option("local_connection"):
                variables["ansible_connection"] = "local"
            for key, value in variables.items():
                self.inventory.set_variable(host, key, value)
            for name in asr_inventory.group_names(variables):
                self.inventory.add_child(self.inventory.add_group(self._sanitize_group_name(name)), host)
            self._set_composite_vars(self.get_option("compose"), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        records = None
        if use_cache:
            try:
                records = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if records is None:
            records = self._read()
        if update_cache:
            self._cache[cache_key] = records
        self._populate(records)
