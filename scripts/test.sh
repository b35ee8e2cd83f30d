#!/usr/bin/env bash
# Runs every check and test of the repository, the same way locally and in CI:
#   1. gofmt      (no file may need formatting)
#   2. go vet ./...
#   3. staticcheck ./...   (when installed; CI installs it, see .ci/run.
#                           Set STEPWELL_REQUIRE_STATICCHECK=1 to fail when it is missing.)
#   4. go test ./...       (then a one-line summary; the PostgreSQL store suite runs
#                           when STEPWELL_TEST_POSTGRES_DSN is set: scripts/postgres.sh
#                           starts a server and prints one; so do tests/cluster's
#                           tests: three servers, 1,000 executions, a SIGKILL and a
#                           SIGSTOP, about a minute and a half); the AWS service tests
#                           (tests/e2e, integrations/aws) start moto_server, and are
#                           skipped without one unless CI or STEPWELL_REQUIRE_MOTO is set)
#   5. scripts/conformance.sh  the AWS-recorded corpus (when ../shared/conformance exists),
#      and the official JSONata test suite through package jsonata (its pass count)
#      scripts/conformance-services.sh  its cases that need AWS services, against
#                           scripts/moto/moto_aws.py (moto_server answering as AWS
#                           documents; run.py --services), with their own floor
#   6. the crash test      SIGKILLs the real server under load (tests/crash)
#      the hostile suite   hundreds of bad requests and definitions against the
#                           real server with a 512 MiB budget, and a disk-full run
#                           (tests/hostile; the disk-full run mounts a tmpfs, or
#                           limits the server's file size, and is listed as not run
#                           when it can do neither)
#   7. tests/cli/awscli_test.sh  the AWS CLI v2 against the server (installs
#                           Debian's awscli when /usr/bin/aws is missing)
#   8. the browser tests   the web console in headless Chromium (tests/browser),
#                           with their benchmark figures, when
#                           STEPWELL_BROWSER_TEST=1 (.ci/run sets it)
# Exit status: 0 when every check passed. --quick stops after step 4. Other
# arguments are passed to go test (./scripts/test.sh --quick -run TestCLI).
# The last lines say what did not run (a skipped step, the PostgreSQL suite
# without a DSN, the AWS CLI and boto3 cases of tests/auth without those
# clients): "all checks passed" only when nothing was skipped.
set -uo pipefail
cd "$(dirname "$0")/.."

quick=0
args=()
for a in "$@"; do
	if [ "$a" = --quick ]; then quick=1; else args+=("$a"); fi
done
set -- "${args[@]+"${args[@]}"}"

failed=()
skipped=()
step() { printf '\n== %s\n' "$*"; }
# skip says that something did not run, now and again in the summary.
skip() {
	echo "skipped: $*"
	skipped+=("$*")
}

step "gofmt -l ."
unformatted=$(gofmt -l . 2>&1)
if [ -n "$unformatted" ]; then
	echo "$unformatted"
	echo "these files need gofmt -w"
	failed+=(gofmt)
else
	echo "ok"
fi

step "go vet ./..."
if go vet ./...; then echo "ok"; else failed+=(vet); fi

step "staticcheck ./..."
staticcheck=$(command -v staticcheck || true)
if [ -z "$staticcheck" ] && [ -x "$(go env GOPATH)/bin/staticcheck" ]; then
	staticcheck="$(go env GOPATH)/bin/staticcheck"
fi
if [ -n "$staticcheck" ]; then
	if "$staticcheck" ./...; then echo "ok"; else failed+=(staticcheck); fi
elif [ "${STEPWELL_REQUIRE_STATICCHECK:-0}" = 1 ]; then
	echo "staticcheck is not installed (go install honnef.co/go/tools/cmd/staticcheck@v0.8.0)"
	failed+=(staticcheck)
else
	skip "staticcheck: not installed (go install honnef.co/go/tools/cmd/staticcheck@v0.8.0)"
fi

# The browser tests run in their own step (8), with their figures, not in
# go test ./....
browser_test=${STEPWELL_BROWSER_TEST:-0}
unset STEPWELL_BROWSER_TEST

step "go test ./... $*"
# What the go test run leaves out for lack of a DSN or a client (the tests
# skip those cases themselves; go test does not list skips).
if [ -z "${STEPWELL_TEST_POSTGRES_DSN:-}" ]; then
	skip "the PostgreSQL store suite, the cluster test (tests/cluster) and the crash test's PostgreSQL run: no STEPWELL_TEST_POSTGRES_DSN (scripts/postgres.sh prints one)"
fi
if ! command -v aws >/dev/null 2>&1 && ! [ -x /usr/bin/aws ]; then
	skip "tests/auth's AWS CLI cases: no aws command (apt-get install awscli)"
fi
if ! python3 -c 'import boto3' >/dev/null 2>&1 && ! /usr/bin/python3 -c 'import boto3' >/dev/null 2>&1; then
	skip "tests/auth's boto3 cases: no python3 with boto3 (apt-get install python3-boto3)"
fi
# The AWS service tests fail without moto_server when it is required (CI).
moto_missing=0
if ! command -v moto_server >/dev/null 2>&1 && [ -z "${CI:-}" ] && [ -z "${STEPWELL_REQUIRE_MOTO:-}" ]; then
	moto_missing=1
	skip "the AWS service tests (tests/e2e TestAWSServices, integrations/aws): no moto_server (pip install 'moto[server]')"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go test -count=1 "$@" ./... 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' "$log")
failed_pkgs=$(grep -cE '^FAIL[[:space:]]+github.com/' "$log")
notests=$(grep -c 'no test files' "$log")
printf '\ngo test summary: %d packages passed, %d failed, %d without tests\n' "$passed" "$failed_pkgs" "$notests"
if [ "$test_status" -ne 0 ]; then failed+=(test); fi

if [ "$quick" = 0 ]; then
	step "scripts/conformance.sh"
	if [ -d ../shared/conformance/cases ]; then
		./scripts/conformance.sh || failed+=(conformance)
	else
		skip "the conformance corpus: ../shared/conformance is not beside the repository"
	fi

	step "scripts/conformance-services.sh"
	if [ ! -d ../shared/conformance/cases ]; then
		skip "the conformance cases that need AWS services: ../shared/conformance is not beside the repository"
	elif [ "$moto_missing" = 1 ]; then
		skip "the conformance cases that need AWS services: no moto_server (pip install 'moto[server]')"
	else
		./scripts/conformance-services.sh || failed+=(conformance-services)
	fi

	step "official JSONata test suite (jsonata: TestOfficialSuite)"
	if go test -count=1 -v -run TestOfficialSuite ./jsonata/ >"$log" 2>&1 && grep 'official JSONata suite:' "$log"; then
		echo "ok"
	else
		grep -v -e '^=== ' -e 'known: ' "$log"
		failed+=(jsonata-suite)
	fi

	step "crash test (tests/crash)"
	STEPWELL_CRASH_TEST=1 go test -count=1 -v -run TestCrashRecovery ./tests/crash/ || failed+=(crash)

	step "hostile-input suite (tests/hostile)"
	STEPWELL_HOSTILE_TEST=1 go test -count=1 -v ./tests/hostile/ >"$log" 2>&1 || failed+=(hostile)
	grep -E -e '^(--- |ok|FAIL|PASS)' -e 'hostile suite:' -e 'disk:' -e 'NOT RUN' "$log"
	if grep -q 'NOT RUN: TestDiskFull' "$log"; then
		skip "$(grep -m1 -o 'NOT RUN: TestDiskFull.*' "$log" | sed 's/^NOT RUN: //')"
	fi
	if grep -q -e '^--- FAIL' -e '^FAIL' "$log"; then grep -v -e '^=== ' "$log" | tail -60; fi

	step "AWS CLI test (tests/cli)"
	./tests/cli/awscli_test.sh || failed+=(awscli)

	step "browser tests (tests/browser)"
	if [ "$browser_test" = 1 ]; then
		STEPWELL_BROWSER_TEST=1 go test -count=1 -v ./tests/browser/ >"$log" 2>&1 || failed+=(browser)
		grep -v -e '^=== ' -e 'screenshot ' "$log"
		echo "screenshots: tests/browser/artifacts/"
	else
		skip "the browser tests: set STEPWELL_BROWSER_TEST=1 to run them (needs Debian's chromium; .ci/run sets it)"
	fi
else
	skip "--quick: the conformance corpus, the official JSONata suite, the crash test, the hostile suite, the AWS CLI test and the browser tests"
fi

echo
if [ ${#skipped[@]} -ne 0 ]; then
	echo "NOT RUN (${#skipped[@]}):"
	printf '  - %s\n' "${skipped[@]}"
fi
if [ ${#failed[@]} -ne 0 ]; then
	echo "FAILED: ${failed[*]}"
	exit 1
fi
if [ ${#skipped[@]} -ne 0 ]; then
	echo "every check that ran passed; ${#skipped[@]} skipped (above)"
else
	echo "all checks passed"
fi
