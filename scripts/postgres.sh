#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL server for the TinyTodo persistence tests.
#   pg_env="$(bash scripts/postgres.sh start)" && eval "$pg_env"
#       # exports TINYTODO_TEST_POSTGRES_URL and PGTEST_DIR; the assignment keeps the
#       # script's exit status (a bare `eval "$(...)"` would hide a failure from `set -e`)
#   bash scripts/postgres.sh stop "$PGTEST_DIR"
# Installs Debian's postgresql package first when no server binaries are present (as root).
# Any failure exits non-zero with one line starting "postgres.sh: error:" on stderr (the
# tools' own output follows it), and leaves no server running and no temporary folder.
# PGTEST_PORT picks the port (default 55432).
set -euo pipefail
PORT="${PGTEST_PORT:-55432}"

die() {
    echo "postgres.sh: error: $*" >&2
    exit 1
}

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    return 1
}

is_root() { [ "$(id -u)" = 0 ]; }

run_as_postgres() {
    if is_root; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

BIN=""
DIR=""

# On a failed start: stop the server if it runs, remove the folder.
cleanup_after_failure() {
    local status=$?
    if [ "$status" != 0 ] && [ -n "$DIR" ]; then
        if [ -f "$DIR/data/postmaster.pid" ]; then
            run_as_postgres "'$BIN/pg_ctl' -D '$DIR/data' -m immediate stop" >/dev/null 2>&1 || true
        fi
        rm -rf "$DIR"
    fi
    return "$status"
}

start() {
    if ! BIN="$(find_bin)"; then
        is_root || die "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and only root can install it"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 \
            || die "installing Debian's postgresql package failed (apt-get output above)"
        BIN="$(find_bin)" || die "the postgresql package is installed but /usr/lib/postgresql/*/bin/initdb is missing"
    fi
    trap cleanup_after_failure EXIT
    trap 'exit 1' INT TERM HUP
    DIR="$(mktemp -d /tmp/cedarlang-pg.XXXXXX)" || die "cannot create a temporary folder under /tmp"
    if is_root; then chown postgres "$DIR" || die "cannot hand $DIR to the postgres user"; fi
    run_as_postgres "'$BIN/initdb' -D '$DIR/data' -A trust -U postgres" >"$DIR/setup.log" 2>&1 \
        || fail "initdb failed"
    run_as_postgres "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/log' -w -o \"-p $PORT -k $DIR -c listen_addresses=127.0.0.1\" start" \
        >>"$DIR/setup.log" 2>&1 || fail "the server did not start on port $PORT"
    run_as_postgres "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U postgres tinytodo_test" >>"$DIR/setup.log" 2>&1 \
        || fail "creating the tinytodo_test database on port $PORT failed"
    echo "export PGTEST_DIR='$DIR' TINYTODO_TEST_POSTGRES_URL='postgresql://postgres@127.0.0.1:$PORT/tinytodo_test'"
}

# fail WHAT: the one error line, then the end of the tools' logs for the details.
fail() {
    local log
    echo "postgres.sh: error: cannot start PostgreSQL: $1" >&2
    for log in "$DIR/setup.log" "$DIR/log"; do
        if [ -s "$log" ]; then tail -n 8 "$log" | sed "s|^|    ${log##*/}: |" >&2; fi
    done
    exit 1
}

stop() {
    local dir="${1:?usage: postgres.sh stop DIR}" bin
    bin="$(find_bin)" || die "no PostgreSQL binaries to stop the server in $dir with"
    run_as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast stop" >&2 || true
    rm -rf "$dir"
}

case "${1:-start}" in
start) start ;;
stop) stop "${2:-}" ;;
*) die "usage: postgres.sh start | stop DIR" ;;
esac
