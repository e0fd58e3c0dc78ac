"""crash_sqlite.py DB JOURNAL SYNC N ACK: commits rows 1..N into table t of
the SQLite database DB, one transaction each, with journal_mode=JOURNAL
(delete, wal) and synchronous=SYNC (off, normal, full, extra); after each
commit returns, appends the row's number to ACK (meant to lie outside the
crash root: what the program told the world is safe).

crash_sqlite.py --check DB ACK: exits 0 if PRAGMA integrity_check says ok
and every row number in ACK is in t (a database without t holds no rows, a
missing ACK acknowledges nothing);
otherwise says what is wrong, exits 1."""
import os
import sqlite3
import sys

if sys.argv[1] == "--check":
    db, ack = sys.argv[2:4]
    con = sqlite3.connect(db)
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    try:
        rows = {r[0] for r in con.execute("SELECT id FROM t")}
    except sqlite3.OperationalError:
        rows = set()  # the table's creation was lost: so was every row
    try:
        with open(ack) as f:
            acked = {int(line) for line in f if line.strip()}
    except FileNotFoundError:
        acked = set()  # nothing was acknowledged yet
    missing = sorted(acked - rows)
    print(f"integrity: {integrity}; rows: {len(rows)}; acknowledged: {len(acked)}; "
          f"acknowledged but lost: {missing}")
    sys.exit(0 if integrity == "ok" and not missing else 1)

db, journal, sync, n, ack = sys.argv[1:6]
con = sqlite3.connect(db, isolation_level=None)
con.execute(f"PRAGMA journal_mode={journal}")
con.execute(f"PRAGMA synchronous={sync}")
con.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, payload TEXT)")
out = os.open(ack, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(1, int(n) + 1):
    con.execute("BEGIN")
    con.execute("INSERT INTO t VALUES (?, ?)", (i, "x" * 3000))
    con.execute("COMMIT")
    os.write(out, b"%d\n" % i)
