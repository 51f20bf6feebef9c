#!/usr/bin/env bash
# The report's screenshot for the docs (issue 16): starts a lab from the default spec, fails back the recovery
# plan rp-app (two boot groups) with ASR jobs a few seconds long, and takes a headless browser's screenshot of the
# run's HTML report. Not part of `make test` (CI has no browser): run it by hand where Chromium is installed.
#   tests/tools/report_screenshot.sh [out.png]     (default docs/images/report-timeline.png)
#   FAILED=1 tests/tools/report_screenshot.sh docs/images/report-failed.png
#     the plan's failover job fails at its task "Group 2: Start" (the lab's /jobs/fail): a failed run's report
# CHROMIUM (default: chromium) names the browser; WIDTH x HEIGHT (default 1440 x 900) the window.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=$(realpath -m "${1:-docs/images/report-timeline.png}")
browser=${CHROMIUM:-chromium}
command -v "$browser" >/dev/null || { echo "report_screenshot: no $browser (set CHROMIUM)" >&2; exit 1; }
name=shot-$$
work=$(mktemp -d)
trap 'python -m tests.lab down --name "$name" >/dev/null; rm -rf "$work"' EXIT
if ! lab_env=$(python -m tests.lab up --name "$name" --spec default.yml); then
  echo "report_screenshot: the lab did not start (see the message above)" >&2
  exit 1
fi
eval "$lab_env"
# jobs of 4 s (bars, not slivers), no Retry-After pause between the polls of an action
curl -sf --cacert "$AZURE_CA_BUNDLE" -H 'Content-Type: application/json' -X POST "$LAB_CONTROL_URL/timings" \
  -d '{"job_seconds": 4, "retry_after_seconds": 0}' >/dev/null
if [ "${FAILED:-0}" = 1 ]; then
  curl -sf --cacert "$AZURE_CA_BUNDLE" -H 'Content-Type: application/json' -X POST "$LAB_CONTROL_URL/jobs/fail" \
    -d '{"plan": "rp-app", "at_task": 4, "code": "LabInjectedFailure", "message": "injected: boot group 2 did not start"}' \
    >/dev/null
fi
rc=0
ansible-playbook -i localhost, siterecovery.failback.recovery_plan -e '{"recovery_plan": "rp-app",
  "failback_poll_interval": 1, "failback_recovery_point_delay": 2, "failback_preflight": false,
  "failback_report_dir": "'"$work"'"}' || rc=$?
if [ "$rc" != 0 ] && [ "${FAILED:-0}" != 1 ]; then
  echo "report_screenshot: the failback failed (rc $rc)" >&2
  exit 1
fi
html=$(find "$work" -maxdepth 1 -name '*.html' | head -1)
[ -n "$html" ] || { echo "report_screenshot: the run wrote no HTML report" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size="${WIDTH:-1440},${HEIGHT:-900}" --screenshot="$out" "file://$html" 2>/dev/null
echo "screenshot of $(basename "$html"): $out"
