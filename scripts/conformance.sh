#!/usr/bin/env bash
# Builds ./stepwell and runs the AWS-recorded conformance corpus against it
# (JSONPath cases; the harness starts the server and a Lambda stub itself).
#
#   scripts/conformance.sh                              # the whole corpus, as CI runs it
#   scripts/conformance.sh --filter map_state choice    # extra arguments go to run.py
#   scripts/conformance.sh --show-failures 100 --jobs 8
#
# It fails when the pass rate is below the floor in conformance/floor.txt,
# then compares the failures with conformance/known-failures.txt (one case
# name per line, "NAME  # reason"): new failures and fixed cases are listed.
# The corpus lives next to the repository, in ../shared/conformance.
set -uo pipefail
cd "$(dirname "$0")/.."

floor=$(grep -v '^[[:space:]]*#' conformance/floor.txt | tr -d '[:space:]' | head -c 16)
if [ -z "$floor" ]; then
	echo "conformance/floor.txt holds no number" >&2
	exit 2
fi

echo "== go build -o stepwell ./cmd/stepwell"
go build -o stepwell ./cmd/stepwell || exit 1

report=$(mktemp --suffix=.json)
trap 'rm -f "$report"' EXIT

echo "== conformance (floor $floor)"
python3 ../shared/conformance/run.py --query-language jsonpath --server './stepwell serve --addr 127.0.0.1:{port} --store memory --lambda-endpoint {lambda_endpoint} --time-scale 0.1 --account-id 111111111111 --region us-east-1' ../shared/conformance/cases --min-pass-rate "$floor" --report "$report" "$@"
status=$?

# Compare with the known failures (informational; the floor is the gate).
if [ -s "$report" ]; then
	python3 - "$report" conformance/known-failures.txt "$*" <<'PY'
import json, sys
report, known_path, extra = sys.argv[1], sys.argv[2], sys.argv[3]
cases = json.load(open(report, encoding="utf-8")).get("cases", [])
failed = {c["name"] for c in cases if c.get("result") == "fail"}
passed = {c["name"] for c in cases if c.get("result") == "pass"}
known = set()
try:
    lines = open(known_path, encoding="utf-8").read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    name = line.split("#", 1)[0].strip()
    if name:
        known.add(name)
new = sorted(failed - known)
fixed = sorted(known & passed)
print(f"\nknown failures: {len(known)}; failing now: {len(failed)}; new: {len(new)}; fixed: {len(fixed)}")
for n in new[:50]:
    print("  NEW FAILURE  " + n)
if len(new) > 50:
    print(f"  ... and {len(new) - 50} more")
for n in fixed:
    print("  FIXED        " + n + "   (remove it from conformance/known-failures.txt)")
PY
fi
exit $status
