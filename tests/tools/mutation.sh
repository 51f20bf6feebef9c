#!/usr/bin/env bash
# `make mutation`: a mutation check (cosmic-ray) of the code that deletes Azure VMs, moves disks,
# takes locks and builds ASR request bodies. Each mutant flips a comparison, negates or drops a
# condition, swaps and/or or a boolean constant; the unit tests must fail on it ("killed").
# Runs on a copy of the checkout (the files are mutated in place), one file at a time.
#
# Usage: tests/tools/mutation.sh [FILE ...]   (default: the files below)
# Prints per file: mutants, killed, survived (with the survivors' diffs), and exits 1 when a
# file's kill rate is under MUTATION_FLOOR percent (default 80).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export PATH=$root/.venv/bin:$PATH  # cosmic-ray and pytest from the project's venv, however it is called
floor=${MUTATION_FLOOR:-80}
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(plugins/module_utils/asr/commit.py plugins/module_utils/asr/failover.py
         plugins/module_utils/asr/reprotect.py plugins/module_utils/asr/lock.py
         plugins/module_utils/asr/providers/classic.py plugins/module_utils/vsphere/master_target.py
         plugins/module_utils/vsphere/onprem.py)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
copy=$work/ansible_collections/siterecovery/failback
mkdir -p "$copy"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 -I{} sh -c 'test -e "{}" && echo "{}"' \
  | tar -cf - -T -) | tar -xf - -C "$copy"
cd "$copy"
# Only the operators that change a decision: comparisons, negated or dropped conditions, and/or,
# True/False. (Arithmetic and number mutants are left out: they are many and mostly equivalent.)
keep='ReplaceComparisonOperator_(Eq_NotEq|NotEq_Eq|Lt_LtE|Lt_GtE|LtE_Lt|LtE_Gt|Gt_GtE|Gt_LtE|GtE_Gt|GtE_Lt|Is_IsNot|IsNot_Is|In_NotIn|NotIn_In)'
keep="$keep|AddNot|ReplaceUnaryOperator_Delete_Not|ReplaceAndWithOr|ReplaceOrWithAnd|ReplaceTrueWithFalse|ReplaceFalseWithTrue"
status=0
for file in "${files[@]}"; do
  # the unit tests of the file's package: tests/unit/<the file's directory>, providers/ with asr/
  tests=tests/unit/$(dirname "$file")
  tests=${tests%/providers}
  if [ ! -d "$tests" ]; then
    echo "mutation: $file: no unit tests at $tests" >&2
    status=1
    continue
  fi
  name=$(basename "$file" .py)
  # A mutant counts as killed when the tests fail, so the tests must pass on the code as it is:
  # a broken test command would otherwise "kill" every mutant.
  if ! python -m pytest -x -q -p no:cacheprovider "$tests" >/dev/null 2>&1; then
    echo "mutation: $file: the unit tests ($tests) fail on the unmutated code; nothing measured" >&2
    status=1
    continue
  fi
  cat > "$work/$name.toml" <<EOF
[cosmic-ray]
module-path = "$file"
timeout = 120.0
excluded-modules = []
test-command = "python -m pytest -x -q -p no:cacheprovider $tests"

[cosmic-ray.distributor]
name = "local"

[cosmic-ray.filters.operators-filter]
exclude-operators = ["^(?!core/($keep)$)"]
EOF
  session=$work/$name.sqlite
  cosmic-ray init "$work/$name.toml" "$session" >/dev/null
  cr-filter-operators "$session" "$work/$name.toml" >/dev/null
  cosmic-ray exec "$work/$name.toml" "$session" >/dev/null 2>&1
  # Skipped mutants (operators filtered out above) do not count; "incompetent" ones (the mutant
  # does not even import) count as killed, as cosmic-ray itself counts them.
  cosmic-ray dump "$session" | python3 -c '
import json, sys
file, out, rows = sys.argv[1], sys.argv[2], [json.loads(line) for line in sys.stdin]
done = [(item, result) for item, result in rows if result and result.get("worker_outcome") == "normal"]
survivors = [(item, result) for item, result in done if result.get("test_outcome") == "survived"]
killed = len(done) - len(survivors)
rate = 100 * killed // len(done) if done else 0  # no mutant run: nothing was shown
print("mutation: %s: %d mutants, %d killed, %d survived (%d %% killed)" % (file, len(done), killed, len(survivors), rate))
for item, result in survivors:
    print("    survived: %s" % item["mutations"][0]["operator_name"])
    print("".join("      " + line for line in (result.get("diff") or "").splitlines(True)))
with open(out, "w") as handle:
    handle.write(str(rate))
' "$file" "$work/$name.rate"
  rate=$(cat "$work/$name.rate")
  [ "$rate" -ge "$floor" ] || status=1
done
exit $status
