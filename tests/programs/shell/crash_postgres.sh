#!/bin/sh
# PostgreSQL with `fsync = on` (its default), for power-loss campaigns
# (tests/crash_systems.rs, tests/stress/crash_postgres). Run it as the user
# that owns DATA, not root (PostgreSQL refuses root):
#
#   sh crash_postgres.sh init DATA        a new cluster in DATA with a table
#                                         t, shut down cleanly
#   sh crash_postgres.sh run DATA ACK N   start the server, commit the rows
#                                         1..N one transaction each, appending
#                                         each to ACK once its COMMIT returned,
#                                         then stop it at once (no checkpoint)
#   sh crash_postgres.sh check DATA ACK   start the server on DATA (it
#                                         recovers from its WAL) and read t:
#                                         every row ACK names must be there
#
# The server listens on no TCP port and on a socket directory of its own
# (DATA.run.sock or DATA.check.sock), so that runs can go side by side; its
# log goes to DATA.log.
# The binaries are the newest under /usr/lib/postgresql (Debian's layout),
# else those on PATH.
set -eu
what=$1 data=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -n "$bin" ]; then
    PATH=$bin:$PATH
fi
# The socket directory: beside DATA, in the run's directory (which a crash
# campaign removes after each run, killed or not), unless that path is too
# long for a unix socket.
sock=$PWD/$data.$what.sock
if [ ${#sock} -gt 80 ]; then
    sock=$(mktemp -d /tmp/fi-pg.XXXXXX)
else
    mkdir -p "$sock"
fi
trap 'rm -rf "$sock"' EXIT

# start [OPTIONS]: start the server, with more of its -c options.
start() {
    if ! pg_ctl -D "$data" -w -t 60 -s -l "$data.log" \
        -o "-k $sock -c listen_addresses='' $*" start; then
        echo "PostgreSQL did not start on $data:"
        tail -n 5 "$data.log"
        exit 1
    fi
}

stop() {
    pg_ctl -D "$data" -w -s -m "$1" stop
}

sql() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -d postgres "$@"
}

case $what in
init)
    initdb -D "$data" -A trust --no-sync --wal-segsize=1 >/dev/null
    start
    sql -c 'CREATE TABLE t (id int)'
    stop fast
    ;;
run)
    ack=$3
    start
    i=1
    while [ "$i" -le "$4" ]; do
        printf 'INSERT INTO t VALUES (%s);\n\\! echo %s >> %s\n' "$i" "$i" "$ack"
        i=$((i + 1))
    done | sql
    stop immediate
    ;;
check)
    ack=$3
    # This server only reads what the crash left: nothing it does need be
    # durable. fsync=off spares the sync of every file of the cluster that
    # crash recovery starts with (seconds), and changes nothing it reads.
    start -c fsync=off
    rows=$(sql -At -c 'SELECT id FROM t ORDER BY id') || {
        stop immediate
        echo "table t unreadable"
        exit 1
    }
    stop immediate
    lost=
    for row in $(cat "$ack" 2>/dev/null); do
        echo "$rows" | grep -qx "$row" || lost="$lost $row"
    done
    if [ -n "$lost" ]; then
        echo "acknowledged but lost:$lost"
        exit 1
    fi
    echo "every acknowledged row is there"
    ;;
*)
    echo "usage: crash_postgres.sh init|run|check DATA [ACK [N]]" >&2
    exit 2
    ;;
esac
