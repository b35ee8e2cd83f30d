#!/usr/bin/env bash
# Builds ./stepwell and runs the conformance corpus's cases that need an AWS
# service other than Lambda (SQS, SNS, DynamoDB, EventBridge, S3, Secrets
# Manager, activities, callbacks, nested executions) in run.py's --services
# mode: the harness starts the emulator and gives the server its URL in the
# AWS SDKs' variables (AWS_ENDPOINT_URL_SQS, ...), with dummy credentials.
# Both query languages; the other cases are run by scripts/conformance.sh.
#
# The emulator is scripts/moto/moto_aws.py: moto_server with narrow patches
# where moto 5.2.1 answers otherwise than AWS documents (S3 default
# encryption and checksums, SQS/SNS/DynamoDB/EventBridge/Secrets Manager
# validation; each patch names its AWS documentation). STEPWELL_MOTO_RAW=1
# runs plain moto_server instead, with the floor in
# conformance/floor-services-raw.txt and, as known failures, also the cases
# listed in conformance/known-failures-services-raw.txt.
#
#   scripts/conformance-services.sh
#   scripts/conformance-services.sh --filter sns callback     # only those of its cases (name or file contains one)
#   scripts/conformance-services.sh --show-failures 100 --jobs 8   # other arguments go to run.py
#
# It fails when the pass rate is below the floor in
# conformance/floor-services.txt, then compares the failures with
# conformance/known-failures-services.txt (one case name per line,
# "NAME  # reason"): new failures and fixed cases are listed.
# Without moto_server (pip install 'moto[server]') it fails when CI or
# STEPWELL_REQUIRE_MOTO is set, and is skipped otherwise.
# The corpus lives next to the repository, in ../shared/conformance.
set -uo pipefail
cd "$(dirname "$0")/.."
corpus=../shared/conformance

if ! command -v moto_server >/dev/null; then
	if [ -n "${CI:-}" ] || [ -n "${STEPWELL_REQUIRE_MOTO:-}" ]; then
		echo "moto_server is not installed (pip install 'moto[server]'): the services conformance cases cannot run" >&2
		exit 1
	fi
	echo "skipped: moto_server is not installed (pip install 'moto[server]')"
	exit 0
fi

moto=$PWD/scripts/moto/moto_aws.py floor_file=conformance/floor-services.txt
known_files=(conformance/known-failures-services.txt)
if [ -n "${STEPWELL_MOTO_RAW:-}" ]; then
	moto=moto_server floor_file=conformance/floor-services-raw.txt
	known_files+=(conformance/known-failures-services-raw.txt)
fi
floor=$(grep -v '^[[:space:]]*#' "$floor_file" | tr -d '[:space:]' | head -c 16)
if [ -z "$floor" ]; then
	echo "$floor_file holds no number" >&2
	exit 2
fi

echo "== go build -o stepwell ./cmd/stepwell"
go build -o stepwell ./cmd/stepwell || exit 1

report=$(mktemp --suffix=.json)
trap 'rm -f "$report"' EXIT

# --filter narrows this script's cases (run.py would add its filters to
# ours): its words are taken out of the arguments given to run.py.
filters=() args=() in_filter=0
for a in "$@"; do
	case $a in
	--filter) in_filter=1 ;;
	-*) in_filter=0; args+=("$a") ;;
	*) if [ "$in_filter" = 1 ]; then filters+=("$a"); else args+=("$a"); fi ;;
	esac
done
set -- "${args[@]+"${args[@]}"}"

# The cases that need something besides Lambda, by file name: what the
# case's "requires" names (a service, activity, callback-agent, ...).
mapfile -t cases < <(python3 - "$corpus/cases" "${filters[@]+"${filters[@]}"}" <<'PY'
import glob, json, os, sys
filters = sys.argv[2:]
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    name = os.path.basename(path)
    if name == "index.json":
        continue
    case = json.load(open(path, encoding="utf-8"))
    req = case.get("requires") or []
    if isinstance(req, str):
        req = [req]
    if not any(r != "none" and not r.startswith("lambda:") for r in req):
        continue
    if filters and not any(f in name or f in case.get("name", "") for f in filters):
        continue
    print(name)
PY
)
if [ ${#cases[@]} -eq 0 ]; then
	echo "no case of $corpus/cases that needs an AWS service matches" >&2
	exit 2
fi

echo "== conformance, AWS services (${#cases[@]} cases, emulator $moto, floor $floor)"
python3 "$corpus/run.py" --services --moto-server "$moto" --driver-time-scale 0.1 --server './stepwell serve --addr 127.0.0.1:{port} --store memory --lambda-endpoint {lambda_endpoint} --time-scale 0.1 --account-id 111111111111 --region us-east-1' "$corpus/cases" --min-pass-rate "$floor" --report "$report" "$@" --filter "${cases[@]}"
status=$?

# Compare with the known failures (informational; the floor is the gate).
if [ -s "$report" ]; then
	python3 - "$report" "${known_files[@]}" <<'PY'
import json, sys
report, known_paths = sys.argv[1], sys.argv[2:]
cases = json.load(open(report, encoding="utf-8")).get("cases", [])
failed = {c["name"] for c in cases if c.get("result") == "fail"}
passed = {c["name"] for c in cases if c.get("result") == "pass"}
known = {}
for path in known_paths:
    for line in open(path, encoding="utf-8"):
        name = line.split("#", 1)[0].strip()
        if name:
            known[name] = path
new, fixed = sorted(failed - known.keys()), sorted(known.keys() & passed)
print(f"\nknown failures: {len(known)}; failing now: {len(failed)}; new: {len(new)}; fixed: {len(fixed)}")
for n in new:
    print("  NEW FAILURE  " + n)
for n in fixed:
    print("  FIXED        " + n + f"   (remove it from {known[n]})")
PY
fi
exit $status
