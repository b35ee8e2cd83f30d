#!/usr/bin/env bash
# Builds ./stepwell and runs the AWS-recorded conformance corpus against it,
# twice: the JSONPath cases, then the JSONata cases (run.py's
# --query-language; the harness starts the server and a Lambda stub itself,
# with the same server command both times).
#
#   scripts/conformance.sh                              # the whole corpus, as CI runs it
#   scripts/conformance.sh --filter map_state choice    # extra arguments go to run.py
#   scripts/conformance.sh --show-failures 100 --jobs 8
#   STEPWELL_CONFORMANCE_MODES=jsonata scripts/conformance.sh   # one mode only
#
# Each mode fails when its pass rate is below its floor (conformance/floor.txt
# for JSONPath, conformance/floor-jsonata.txt for JSONata), then compares its
# failures with its list of known failures (conformance/known-failures.txt,
# conformance/known-failures-jsonata.txt; one case name per line,
# "NAME  # reason"): new failures and fixed cases are listed.
# The corpus lives next to the repository, in ../shared/conformance.
set -uo pipefail
cd "$(dirname "$0")/.."

echo "== go build -o stepwell ./cmd/stepwell"
go build -o stepwell ./cmd/stepwell || exit 1

report=$(mktemp --suffix=.json)
trap 'rm -f "$report"' EXIT

server='./stepwell serve --addr 127.0.0.1:{port} --store memory --lambda-endpoint {lambda_endpoint} --time-scale 0.1 --account-id 111111111111 --region us-east-1'

# run MODE FLOOR_FILE KNOWN_FILE [run.py arguments...]
run() {
	local mode=$1 floor_file=$2 known=$3
	shift 3
	local floor
	floor=$(grep -v '^[[:space:]]*#' "$floor_file" | tr -d '[:space:]' | head -c 16)
	if [ -z "$floor" ]; then
		echo "$floor_file holds no number" >&2
		return 2
	fi
	echo "== conformance, $mode (floor $floor)"
	rm -f "$report"
	python3 ../shared/conformance/run.py --query-language "$mode" --server "$server" ../shared/conformance/cases --min-pass-rate "$floor" --report "$report" "$@"
	local status=$?
	# Compare with the known failures (informational; the floor is the gate).
	if [ -s "$report" ]; then
		python3 - "$report" "$known" <<'PY'
import json, sys
report, known_path = sys.argv[1], sys.argv[2]
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
    print("  FIXED        " + n + "   (remove it from " + known_path + ")")
PY
	fi
	return $status
}

status=0
modes=${STEPWELL_CONFORMANCE_MODES:-jsonpath jsonata}
for mode in $modes; do
	case $mode in
	jsonpath) run jsonpath conformance/floor.txt conformance/known-failures.txt "$@" || status=1 ;;
	jsonata) run jsonata conformance/floor-jsonata.txt conformance/known-failures-jsonata.txt "$@" || status=1 ;;
	*)
		echo "unknown mode $mode (jsonpath, jsonata)" >&2
		status=2
		;;
	esac
	echo
done
exit $status
