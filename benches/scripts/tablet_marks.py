"""The trial behind tablet migration 8: what marking a million answered ratings costs in SQLite,
as an UPDATE of each rating's row (schema 7) against a DELETE from a narrow outbox table and an
INSERT into a narrow `sent` table (B), and the same with an index on the receipt (C).

usage: python3 tablet_marks.py SCHEMA7_TABLET_DB A B C ...
  SCHEMA7_TABLET_DB: a tablet database at schema 7 with finished ratings waiting (for instance
  `hailong demo --count 1000000` by a build before migration 8); it is copied, never changed.
"""
import os
import shutil
import sqlite3
import sys
import tempfile
import time

BATCH = 500


def run(source, mode, work):
    db = os.path.join(work, "t.db")
    for side in (db + "-wal", db + "-shm"):
        if os.path.exists(side):
            os.remove(side)
    shutil.copy(source, db)
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("pragma journal_mode=wal")
    c.execute("pragma synchronous=normal")
    if mode in "BC":
        c.executescript(
            "begin; create table outbox(seq integer primary key);"
            "create table sent(seq integer primary key, receipt integer);"
            "insert into outbox select seq from ratings where sync_state=0 and finished=1;"
            + ("create index sent_receipt on sent(receipt);" if mode == "C" else "")
            + "drop index ratings_outbox; drop index ratings_receipt; commit;"
        )
    rows = c.execute(
        "select seq, id from ratings where sync_state=0 and finished=1 order by seq"
    ).fetchall()
    start = time.perf_counter()
    receipt = 1
    for i in range(0, len(rows), BATCH):
        chunk = rows[i : i + BATCH]
        c.execute("begin immediate")
        if mode == "A":
            c.executemany(
                "update ratings set sync_state=1, sync_error=null, server_receipt=?"
                " where id=? and sync_state=0",
                [(receipt + j, row[1]) for j, row in enumerate(chunk)],
            )
        else:
            c.executemany("delete from outbox where seq=?", [(row[0],) for row in chunk])
            c.executemany(
                "insert into sent(seq, receipt) values(?, ?)",
                [(row[0], receipt + j) for j, row in enumerate(chunk)],
            )
        receipt += len(chunk)
        c.execute("commit")
    took = time.perf_counter() - start
    c.close()
    print(f"{mode} {len(rows)} {took:.2f} s {took / len(rows) * 1e6:.2f} us/rating")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as work:
        for mode in sys.argv[2:]:
            run(sys.argv[1], mode, work)
