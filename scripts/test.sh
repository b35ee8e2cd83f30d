#!/usr/bin/env bash
# Runs every check of the repository, the same way locally and in CI:
#   1. gofmt      (no file may need formatting)
#   2. go vet ./...
#   3. staticcheck ./...   (when installed; CI installs it, see .ci/run.
#                           Set STEPWELL_REQUIRE_STATICCHECK=1 to fail when it is missing.)
#   4. go test ./...       (then a one-line summary)
# Exit status: 0 when every check passed. Extra arguments are passed to go test
# (for example: ./scripts/test.sh -race, ./scripts/test.sh -run TestCLI).
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
step() { printf '\n== %s\n' "$*"; }

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
	echo "skipped: staticcheck is not installed (go install honnef.co/go/tools/cmd/staticcheck@v0.8.0)"
fi

step "go test ./... $*"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go test -count=1 "$@" ./... 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' "$log")
failed_pkgs=$(grep -cE '^FAIL[[:space:]]+github.com/' "$log")
notests=$(grep -c 'no test files' "$log")
printf '\ngo test summary: %d packages passed, %d failed, %d without tests\n' "$passed" "$failed_pkgs" "$notests"
if [ "$test_status" -ne 0 ]; then failed+=(test); fi

echo
if [ ${#failed[@]} -ne 0 ]; then
	echo "FAILED: ${failed[*]}"
	exit 1
fi
echo "all checks passed"
