#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and prints its DSN.
#
#   scripts/postgres.sh [start]   install PostgreSQL if missing (Debian:
#                                 apt-get install postgresql, as root), start a
#                                 server in $STEPWELL_PG_DIR (initdb on first
#                                 use), create database "stepwell", and print
#                                 the DSN as the only line on stdout
#   scripts/postgres.sh stop      stop that server
#   scripts/postgres.sh status    exit status 0 if that server is running
#   scripts/postgres.sh dsn       print the DSN (server must be running)
#
# The server listens only on a Unix socket in $STEPWELL_PG_DIR (no TCP port,
# so it cannot clash with another PostgreSQL), trusts local connections, and
# needs no systemd: it works as root on a fresh Debian 12 (the server runs as
# the postgres user) and as an ordinary user. Progress goes to stderr. Exit
# status is non-zero, with the reason, if anything fails.
#
#   export STEPWELL_TEST_POSTGRES_DSN=$(scripts/postgres.sh)
#   go test ./store/postgres/
#
# Environment: STEPWELL_PG_DIR (default ${TMPDIR:-/tmp}/stepwell-postgres;
# /tmp/stepwell-postgres as root),
# STEPWELL_PG_PORT (default 54329: only names the socket file).
set -euo pipefail

if [ "$(id -u)" = 0 ]; then
	# As root the server runs as postgres, which must reach the directory:
	# not under a private TMPDIR.
	dir=${STEPWELL_PG_DIR:-/tmp/stepwell-postgres}
else
	dir=${STEPWELL_PG_DIR:-${TMPDIR:-/tmp}/stepwell-postgres}
fi
port=${STEPWELL_PG_PORT:-54329}
db=stepwell
cmd=${1:-start}

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

dsn() { echo "postgres:///$db?host=$dir&port=$port&user=postgres&sslmode=disable"; }

# bindir finds the newest installed server binaries.
bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	return 1
}

install() {
	[ "$(id -u)" = 0 ] || die "PostgreSQL server binaries not found and not root: install the postgresql package"
	command -v apt-get >/dev/null || die "PostgreSQL server binaries not found and apt-get is missing"
	log "installing PostgreSQL: apt-get update && apt-get install -y postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed"
}

# as_server runs a command as the user that owns the server.
as_server() {
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "user postgres does not exist (the postgresql package creates it)"
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case $cmd in
start) ;;
stop)
	bin=$(bindir) || exit 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || die "pg_ctl stop failed"
	fi
	exit 0
	;;
status)
	bin=$(bindir) || exit 1
	[ -f "$dir/data/PG_VERSION" ] || exit 1
	as_server "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
	exit
	;;
dsn) dsn; exit 0 ;;
*) die "usage: $0 [start|stop|status|dsn]" ;;
esac

bin=$(bindir) || { install; bin=$(bindir) || die "PostgreSQL installed but initdb/pg_ctl not found"; }
log "using $bin"

mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
chmod 700 "$dir"

if [ ! -f "$dir/data/PG_VERSION" ]; then
	log "initdb $dir/data"
	as_server "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; die "initdb failed"; }
fi

if as_server "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
	log "already running"
else
	log "starting the server (socket $dir/.s.PGSQL.$port)"
	as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-k $dir -p $port -c listen_addresses='' -c max_connections=300" start >&2 ||
		{ tail -n 30 "$dir/server.log" >&2 || true; die "pg_ctl start failed"; }
fi

psql=("$bin/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
	"${psql[@]}" -c "CREATE DATABASE $db" >&2 || die "CREATE DATABASE failed"
fi
dsn
