"""Moving answers between the run's store and the per-shard stores of ``distill --engine ray``.

Both directions are plain SQL over ``ATTACH``ed databases of the one schema
(:mod:`uniner.distill.store`), each in one transaction, and both are idempotent: a driver killed
half-way through a merge merges again on the next run and nothing is doubled or lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from uniner.distill.store import Store


def seed_store(shard: Path, main: Path, passage_hashes: Iterable[str]) -> None:
    """Copy into ``shard`` the done answers ``main`` holds for these passages: the runner then
    finds them by their key and asks nothing again (a failed answer is asked again)."""
    with Store(shard) as st:  # creates the schema when new
        if not main.exists():
            return
        st.conn.execute("ATTACH DATABASE ? AS src", (str(main),))
        try:  # one index, made once: seeding many shards must not scan the store each time
            st.conn.execute(
                "CREATE INDEX IF NOT EXISTS src.answers_passage_hash ON answers(passage_hash)"
            )
            st.conn.execute("CREATE TEMP TABLE want (h TEXT PRIMARY KEY)")
            st.conn.executemany(
                "INSERT OR IGNORE INTO want VALUES (?)", [(h,) for h in passage_hashes]
            )
            with st.conn:
                st.conn.execute("BEGIN")
                st.conn.execute(
                    "INSERT OR REPLACE INTO main.answers SELECT * FROM src.answers "
                    "WHERE status = 'done' AND passage_hash IN (SELECT h FROM want)"
                )
        finally:
            st.conn.execute("DETACH DATABASE src")


def merge_store(main: Path, shard: Path) -> None:
    """Fold a shard's answers into ``main``: a new key is added, a done answer replaces a
    failed one, a done one is never replaced; attempts are copied once."""
    with Store(main) as st:
        st.conn.execute("ATTACH DATABASE ? AS src", (str(shard),))
        try:
            with st.conn:
                st.conn.execute("BEGIN")
                st.conn.execute(
                    "INSERT OR REPLACE INTO main.answers SELECT s.* FROM src.answers s "
                    "LEFT JOIN main.answers m ON m.key = s.key "
                    "WHERE m.key IS NULL OR (m.status != 'done' AND "
                    "(s.status = 'done' OR s.updated > m.updated))"
                )
                st.conn.execute(
                    "INSERT INTO main.attempts (key, attempt, http_status, error, seconds, logged) "
                    "SELECT key, attempt, http_status, error, seconds, logged FROM src.attempts s "
                    "WHERE NOT EXISTS (SELECT 1 FROM main.attempts m WHERE m.key = s.key "
                    "AND m.logged = s.logged AND m.attempt IS s.attempt)"
                )
        finally:
            st.conn.execute("DETACH DATABASE src")
