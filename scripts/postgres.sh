#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL server for the TinyTodo persistence tests.
#   eval "$(bash scripts/postgres.sh start)"   # exports TINYTODO_TEST_POSTGRES_URL and PGTEST_DIR
#   bash scripts/postgres.sh stop "$PGTEST_DIR"
# Installs Debian's postgresql package first when no server binaries are present.
set -euo pipefail
PORT="${PGTEST_PORT:-55432}"

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    return 1
}

run_as_postgres() {
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

case "${1:-start}" in
start)
    if ! BIN="$(find_bin)"; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        else
            echo "echo 'PostgreSQL is not installed and this user cannot install it' >&2"
            exit 0
        fi
        BIN="$(find_bin)"
    fi
    DIR="$(mktemp -d /tmp/cedarlang-pg.XXXXXX)"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    run_as_postgres "'$BIN/initdb' -D '$DIR/data' -A trust -U postgres" >&2
    run_as_postgres "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/log' -w -o \"-p $PORT -k $DIR -c listen_addresses=127.0.0.1\" start" >&2
    run_as_postgres "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U postgres tinytodo_test" >&2
    echo "export PGTEST_DIR='$DIR' TINYTODO_TEST_POSTGRES_URL='postgresql://postgres@127.0.0.1:$PORT/tinytodo_test'"
    ;;
stop)
    DIR="${2:?usage: postgres.sh stop DIR}"
    BIN="$(find_bin)"
    run_as_postgres "'$BIN/pg_ctl' -D '$DIR/data' -m fast stop" >&2 || true
    rm -rf "$DIR"
    ;;
esac
