#!/bin/sh
# Redis with `appendonly yes` and `appendfsync always`, for power-loss
# campaigns (tests/crash_systems.rs):
#
#   sh crash_redis.sh run DATA ACK N [FSYNC]
#                                      start redis-server on the fresh data
#                                      directory DATA with `appendfsync
#                                      FSYNC` (default always), SET k1..kN,
#                                      appending each key to ACK once redis
#                                      said OK, then shut it down
#   sh crash_redis.sh check DATA ACK   start redis-server on DATA (it loads
#                                      its append-only file) and read every
#                                      key ACK names: each must hold its value
#
# Redis listens on a socket of its own in the current directory (outside
# DATA; a crash campaign removes the run's directory, killed or not), so
# that runs can go side by side.
set -eu
what=$1 data=$2 ack=$3
sock=$PWD/redis.$what.sock
if [ ${#sock} -gt 100 ]; then
    sock=$(mktemp -u /tmp/fi-redis.XXXXXX)
fi

# start [FSYNC]
start() {
    redis-server --port 0 --unixsocket "$sock" --dir "$data" \
        --appendonly yes --appendfsync "${1:-always}" --save '' \
        --logfile "$sock.log" --loglevel warning &
    pid=$!
    trap stop EXIT
    until [ "$(redis-cli -s "$sock" ping 2>/dev/null)" = PONG ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" || true
            echo "redis-server did not start on $data:"
            tail -n 5 "$sock.log"
            rm -f "$sock.log"
            exit 1
        fi
        sleep 0.05
    done
}

stop() {
    trap - EXIT
    redis-cli -s "$sock" shutdown >/dev/null 2>&1 || true
    wait "$pid" || true
    rm -f "$sock" "$sock.log"
}

case $what in
run)
    start "${5:-always}"
    i=1
    while [ "$i" -le "$4" ]; do
        [ "$(redis-cli -s "$sock" set "k$i" "v$i")" = OK ]
        echo "k$i" >>"$ack"
        i=$((i + 1))
    done
    stop
    ;;
check)
    start
    lost=
    for key in $(cat "$ack" 2>/dev/null); do
        value=$(redis-cli -s "$sock" get "$key")
        [ "$value" = "v${key#k}" ] || lost="$lost $key"
    done
    stop
    if [ -n "$lost" ]; then
        echo "acknowledged but lost:$lost"
        exit 1
    fi
    echo "every acknowledged key is there"
    ;;
*)
    echo "usage: crash_redis.sh run|check DATA ACK [N]" >&2
    exit 2
    ;;
esac
