#!/usr/bin/env bash
# End-to-end test of `stepwell serve` through the AWS CLI, as a user would
# drive it: create a state machine, start an execution and follow it to the
# end, run an activity worker loop (get-activity-task / send-task-success)
# for an execution that waits on an activity, read the histories, redrive
# a failed execution, and use a version, an alias and tags.
#
# Uses `aws` from PATH; when there is none it installs Debian's awscli
# package (apt-get update && apt-get install -y awscli) and fails loudly if
# that is not possible. Run from anywhere: tests/cli/awscli_test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
	echo "awscli_test: FAIL: $*" >&2
	exit 1
}

# The issue asks for AWS CLI v2 from Debian's awscli package: use /usr/bin/aws
# (a pip-installed v1 earlier on PATH must not stand in for it).
if ! /usr/bin/aws --version >/dev/null 2>&1; then
	echo "awscli_test: /usr/bin/aws not found; installing Debian's awscli package"
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || fail "aws is missing and we are not root (no sudo) to apt-get install awscli"
		sudo="sudo"
	fi
	$sudo apt-get update || fail "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y awscli || fail "apt-get install -y awscli failed"
fi
aws() { /usr/bin/aws "$@"; }
case "$(aws --version 2>&1)" in
aws-cli/2.*) ;;
*) fail "expected AWS CLI v2 at /usr/bin/aws, got: $(aws --version 2>&1)" ;;
esac
echo "awscli_test: $(aws --version 2>&1)"

work=$(mktemp -d)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/stepwell" ./cmd/stepwell || fail "go build ./cmd/stepwell"
"$work/stepwell" serve --addr 127.0.0.1:0 --account-id 123456789012 --region us-east-1 --data-dir "$work/data" 2>"$work/server.log" &
server_pid=$!
endpoint=""
for _ in $(seq 1 100); do
	endpoint=$(grep -o 'listening on http://[^ ]*' "$work/server.log" | head -n1 | sed 's/listening on //' || true)
	[ -n "$endpoint" ] && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "stepwell serve exited"; }
	sleep 0.1
done
[ -n "$endpoint" ] || { cat "$work/server.log" >&2; fail "stepwell serve did not print its address"; }
echo "awscli_test: server at $endpoint"

export AWS_ACCESS_KEY_ID=stepwell AWS_SECRET_ACCESS_KEY=stepwell AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
sfn() { aws stepfunctions --endpoint-url "$endpoint" --cli-read-timeout 70 "$@"; }

role=arn:aws:iam::123456789012:role/stepwell

# cli_has CMD: whether this AWS CLI knows the stepfunctions command (Debian 12's
# v2.9 predates redrive, versions and aliases; the server supports them all).
cli_has() { aws stepfunctions "$1" help >/dev/null 2>&1; }

# wait_done ARN: polls describe-execution until the execution has ended and
# prints its status.
wait_done() {
	local status
	for _ in $(seq 1 300); do
		status=$(sfn describe-execution --execution-arn "$1" --query status --output text)
		if [ "$status" != RUNNING ]; then
			echo "$status"
			return 0
		fi
		sleep 0.1
	done
	fail "execution $1 still running"
}

# 1. A machine, an execution followed to the end, its history.
definition='{"StartAt":"Greet","States":{"Greet":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('"'"'Hello, {}!'"'"', $.name)"},"Next":"Done"},"Done":{"Type":"Succeed"}}}'
sm=$(sfn create-state-machine --name cli-hello --definition "$definition" --role-arn "$role" --query stateMachineArn --output text)
[ "$sm" = "arn:aws:states:us-east-1:123456789012:stateMachine:cli-hello" ] || fail "create-state-machine returned '$sm'"
sfn list-state-machines --query 'stateMachines[].name' --output text | grep -qw cli-hello || fail "list-state-machines misses cli-hello"

exec_arn=$(sfn start-execution --state-machine-arn "$sm" --name first --input '{"name":"CLI"}' --query executionArn --output text)
[ "$exec_arn" = "arn:aws:states:us-east-1:123456789012:execution:cli-hello:first" ] || fail "start-execution returned '$exec_arn'"
status=$(wait_done "$exec_arn")
[ "$status" = SUCCEEDED ] || fail "execution ended $status"
output=$(sfn describe-execution --execution-arn "$exec_arn" --query output --output text)
[ "$output" = '{"greeting":"Hello, CLI!"}' ] || fail "execution output '$output'"
types=$(sfn get-execution-history --execution-arn "$exec_arn" --query 'events[].type' --output text | tr '\t' ' ')
[ "$types" = "ExecutionStarted PassStateEntered PassStateExited SucceedStateEntered SucceedStateExited ExecutionSucceeded" ] ||
	fail "history event types: $types"
echo "awscli_test: execution and history ok"

# 2. An activity worker loop: three activity tasks handed out one by one.
activity=$(sfn create-activity --name cli-worker --query activityArn --output text)
[ "$activity" = "arn:aws:states:us-east-1:123456789012:activity:cli-worker" ] || fail "create-activity returned '$activity'"
sfn describe-activity --activity-arn "$activity" --query name --output text | grep -qx cli-worker || fail "describe-activity"
act_def='{"StartAt":"Work","States":{"Work":{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"Do","States":{"Do":{"Type":"Task","Resource":"'"$activity"'","TimeoutSeconds":60,"End":true}}},"End":true}}}'
sm2=$(sfn create-state-machine --name cli-activity --definition "$act_def" --role-arn "$role" --query stateMachineArn --output text)
exec2=$(sfn start-execution --state-machine-arn "$sm2" --input '[1,2,3]' --query executionArn --output text)

handled=0
for _ in $(seq 1 20); do
	status=$(sfn describe-execution --execution-arn "$exec2" --query status --output text)
	[ "$status" = RUNNING ] || break
	sfn get-activity-task --activity-arn "$activity" --worker-name cli-worker --output json >"$work/task.json"
	token=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("taskToken") or "")' "$work/task.json")
	[ -n "$token" ] || continue
	input=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["input"])' "$work/task.json")
	sfn send-task-success --task-token "$token" --task-output "{\"doubled\":$((input * 2))}"
	handled=$((handled + 1))
done
[ "$handled" = 3 ] || fail "the worker handled $handled tasks, want 3"
status=$(wait_done "$exec2")
[ "$status" = SUCCEEDED ] || fail "activity execution ended $status"
output=$(sfn describe-execution --execution-arn "$exec2" --query output --output text)
[ "$output" = '[{"doubled":2},{"doubled":4},{"doubled":6}]' ] || fail "activity execution output '$output'"
history=$(sfn get-execution-history --execution-arn "$exec2" --query 'events[].type' --output text | tr '\t' '\n')
for ev in ActivityScheduled ActivityStarted ActivitySucceeded; do
	n=$(grep -cx "$ev" <<<"$history" || true)
	[ "$n" = 3 ] || fail "history has $n $ev events, want 3"
done
worker=$(sfn get-execution-history --execution-arn "$exec2" --query 'events[?type==`ActivityStarted`].activityStartedEventDetails.workerName' --output text | tr '\t' ' ')
[ "$worker" = "cli-worker cli-worker cli-worker" ] || fail "ActivityStarted worker names: $worker"
echo "awscli_test: activity worker loop ok"

if cli_has redrive-execution; then
	# 3. Redrive: the activity task fails, the execution is redriven and the
	# worker's second answer succeeds.
	sm_r=$(sfn create-state-machine --name cli-redrive --role-arn "$role" --query stateMachineArn --output text \
		--definition '{"StartAt":"Do","States":{"Do":{"Type":"Task","Resource":"'"$activity"'","End":true}}}')
	exec_r=$(sfn start-execution --state-machine-arn "$sm_r" --input '{"try":1}' --query executionArn --output text)
	token=$(sfn get-activity-task --activity-arn "$activity" --query taskToken --output text)
	sfn send-task-failure --task-token "$token" --error Oops --cause "first try"
	[ "$(wait_done "$exec_r")" = FAILED ] || fail "the execution to redrive did not fail"
	sfn redrive-execution --execution-arn "$exec_r" >/dev/null
	token=$(sfn get-activity-task --activity-arn "$activity" --query taskToken --output text)
	sfn send-task-success --task-token "$token" --task-output '"second try"'
	[ "$(wait_done "$exec_r")" = SUCCEEDED ] || fail "the redriven execution did not succeed"
	got=$(sfn describe-execution --execution-arn "$exec_r" --query '[redriveCount,output]' --output text | tr '\t' ' ')
	[ "$got" = '1 "second try"' ] || fail "redriven execution: $got"
	sfn get-execution-history --execution-arn "$exec_r" --query 'events[].type' --output text | grep -qw ExecutionRedriven ||
		fail "no ExecutionRedriven in the history"
	echo "awscli_test: redrive ok"
else
	echo "awscli_test: redrive skipped (this AWS CLI has no redrive-execution)"
fi

if cli_has publish-state-machine-version; then
	# 4. A version, an alias started by ARN, tags.
	version=$(sfn publish-state-machine-version --state-machine-arn "$sm" --description v1 --query stateMachineVersionArn --output text)
	[ "$version" = "$sm:1" ] || fail "publish-state-machine-version returned '$version'"
	alias_arn=$(sfn create-state-machine-alias --name live --routing-configuration "stateMachineVersionArn=$version,weight=100" \
		--query stateMachineAliasArn --output text)
	[ "$alias_arn" = "$sm:live" ] || fail "create-state-machine-alias returned '$alias_arn'"
	exec3=$(sfn start-execution --state-machine-arn "$alias_arn" --input '{"name":"alias"}' --query executionArn --output text)
	[ "$(wait_done "$exec3")" = SUCCEEDED ] || fail "execution through the alias failed"
	got=$(sfn describe-execution --execution-arn "$exec3" --query '[stateMachineVersionArn,stateMachineAliasArn]' --output text | tr '\t' ' ')
	[ "$got" = "$version $alias_arn" ] || fail "execution through the alias records '$got'"
	sfn delete-state-machine-alias --state-machine-alias-arn "$alias_arn"
	sfn delete-state-machine-version --state-machine-version-arn "$version"
	echo "awscli_test: versions and aliases ok"
else
	echo "awscli_test: versions and aliases skipped (this AWS CLI predates them)"
fi
sfn tag-resource --resource-arn "$sm" --tags key=team,value=cli
[ "$(sfn list-tags-for-resource --resource-arn "$sm" --query 'tags[0].value' --output text)" = cli ] || fail "list-tags-for-resource"
echo "awscli_test: tags ok"

# 5. Errors come back as the AWS CLI reports them.
if sfn describe-state-machine --state-machine-arn "arn:aws:states:us-east-1:123456789012:stateMachine:absent" 2>"$work/err.txt"; then
	fail "describe-state-machine of a missing machine succeeded"
fi
grep -q StateMachineDoesNotExist "$work/err.txt" || fail "missing machine error: $(cat "$work/err.txt")"

sfn delete-activity --activity-arn "$activity"
sfn delete-state-machine --state-machine-arn "$sm"
sfn delete-state-machine --state-machine-arn "$sm2"
if [ -n "${sm_r:-}" ]; then
	sfn delete-state-machine --state-machine-arn "$sm_r"
fi
echo "awscli_test: PASS"
