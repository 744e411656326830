#!/usr/bin/env python3
"""Stalls the pipeline for the boot test: holds the database's write lock while an event waits
to be applied, so every batch fails, until the release file appears. The event is written just
before the lock is taken; if the pipeline applied it in between, another is written."""
import json
import os
import sqlite3
import sys
import time

database, release = sys.argv[1], sys.argv[2]
db = sqlite3.connect(database, isolation_level=None, timeout=30)
n = 0
while True:
    n += 1
    body = json.dumps({"data": {"name": "Stalled"}, "id": f"stall-{n}", "source": "urn:boot-test", "specversion": "1.0",
                       "subject": "c-1", "type": "customer.updated"}, separators=(",", ":"), sort_keys=True)
    db.execute("INSERT INTO events (source, id, type, subject, recorded_at, body) VALUES (?, ?, ?, ?, ?, ?)",
               ("urn:boot-test", f"stall-{n}", "customer.updated", "c-1", time.time(), body.encode()))
    db.execute("BEGIN IMMEDIATE")
    head = db.execute("SELECT MAX(position) FROM events").fetchone()[0]
    checkpoint = db.execute("SELECT MAX(position) FROM checkpoints").fetchone()[0] or 0
    if head > checkpoint:
        break
    db.execute("ROLLBACK")
while not os.path.exists(release):
    time.sleep(0.2)
db.execute("ROLLBACK")
