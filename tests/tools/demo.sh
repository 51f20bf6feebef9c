#!/usr/bin/env bash
# `make demo`: the main job on the lab. Starts a lab from the default spec (a small site whose VMs
# run in Azure after a failover), fails app01 back to its original location and web02 (whose
# on-premises VM is gone) to an alternate location, prints where the reports are, stops the lab.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
name=demo-$$
reports=$root/tests/output/demo-reports
mkdir -p "$reports"
started=$(date +%s)
echo "== siterecovery.failback demo: starting the lab (vCenter simulator + Azure/ASR emulator) =="
trap 'python -m tests.lab down --name "$name" >/dev/null' EXIT
# A failed start must stop the demo here, with the lab's own message (an `eval "$(...)"` would
# swallow the failure and go on with no lab).
if ! lab_env=$(python -m tests.lab up --name "$name" --spec default.yml); then
  echo "demo: the lab did not start (see the message above); nothing was run" >&2
  exit 1
fi
eval "$lab_env"
echo "lab up in $(( $(date +%s) - started )) s: vCenter ${VMWARE_HOST}:${VMWARE_PORT}, ARM ${AZURE_ARM_ENDPOINT}"

run() {
  echo
  echo "== ansible-playbook siterecovery.failback.$1 $2 =="
  ansible-playbook -i localhost, "siterecovery.failback.$1" -e "$2"
}
run original_location '{"original_location_vms": ["app01"], "original_location_poll_interval": 1,
  "original_location_recovery_point_delay": 2, "original_location_report_dir": "'"$reports"'"}'
run alternate_location '{"alternate_location_vms": ["web02"], "alternate_location_datastore": "vmfs-01",
  "alternate_location_poll_interval": 1, "alternate_location_recovery_point_delay": 2,
  "alternate_location_report_dir": "'"$reports"'"}'

echo
echo "== demo done in $(( $(date +%s) - started )) s =="
newest() {  # the newest file of a name pattern in the reports directory
  find "$reports" -maxdepth 1 -name "$1" -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-
}
for report in "$(newest 'original-location-*.md')" "$(newest 'alternate-location-*.md')"; do
  echo "-- ${report}"
  sed -n '1,12p' "$report"
done
echo "Reports (JSON, Markdown, HTML with a timeline): $reports"
