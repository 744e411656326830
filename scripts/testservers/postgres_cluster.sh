#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for the tests: initdb in a new temporary directory, the server
# on a free loopback port (written to --port-file), password authentication for the role
# `tidings` (password `tidings-test`). It stops, and its directory goes, when this script gets
# SIGTERM or SIGINT, or when the process that started it exits.
#
# Usage: postgres_cluster.sh --port-file FILE
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail

port_file=""
while (( $# )); do
    case "$1" in
        --port-file) port_file="$2"; shift 2 ;;
        *) echo "usage: $0 --port-file FILE" >&2; exit 2 ;;
    esac
done
[[ -n $port_file ]] || { echo "usage: $0 --port-file FILE" >&2; exit 2; }

bin=""
for dir in /usr/lib/postgresql/*/bin; do [[ -x $dir/initdb ]] && bin=$dir; done
[[ -n $bin ]] || { echo "postgres_cluster: no PostgreSQL server found (apt install postgresql; make test-deps does)" >&2; exit 1; }

watched=$PPID
dir=$(mktemp -d /tmp/tidings-pg.XXXXXX)
if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir"
    as_owner() { runuser -u postgres -- "$@"; }
else
    as_owner() { "$@"; }
fi

stop() {
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap 'stop; exit 0' TERM INT
trap stop EXIT

echo tidings-test > "$dir/password"
chmod 600 "$dir/password"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir/password"
as_owner "$bin/initdb" -D "$dir/data" -U tidings --pwfile="$dir/password" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }

# A free port: bind to 0 and read what the kernel gave (a race with another process is possible
# but rare; the server then fails to start and the start is tried again).
started=false
for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on" start >/dev/null 2>&1; then
        started=true
        break
    fi
done
$started || { cat "$dir/server.log" >&2; exit 1; }
echo "$port" > "$port_file"

# Until told to stop, or until the test process is gone.
while kill -0 "$watched" 2>/dev/null; do sleep 1 & wait $!; done
