"""The embedded SQLite store (WAL) of every request and answer.

One row per *answer key*: a hash of teacher, model, template (name, version and prompt digest),
generation parameters and the passage's text hash. The same passage asked the same way is
therefore answered once, ever: a resumed or repeated run finds the answer here and does not pay
for it again, while changing the model, the template or the temperature makes new keys.

Rows are committed one by one as answers arrive (WAL, ``synchronous=NORMAL``: a committed row
survives the process being killed; only an OS crash can lose the last few). Every HTTP attempt is
logged in ``attempts`` (status, error, seconds) for post-mortems. The API key never gets here.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    passage_id TEXT NOT NULL,
    passage_hash TEXT NOT NULL,
    teacher TEXT NOT NULL,
    model TEXT NOT NULL,
    template TEXT NOT NULL,
    params TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,           -- 'done' or 'failed'
    response TEXT,
    prompt_tokens INTEGER DEFAULT 0,
    completion_tokens INTEGER DEFAULT 0,
    finish_reason TEXT,
    attempts INTEGER DEFAULT 0,
    error TEXT,
    latency REAL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_status ON answers(status);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    attempt INTEGER,
    http_status INTEGER,
    error TEXT,
    seconds REAL,
    logged REAL NOT NULL
);
"""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def answer_key(
    teacher: str, model: str, template: str, params: Mapping[str, Any], passage_hash: str
) -> str:
    ident = json.dumps(
        [teacher, model, template, dict(sorted(params.items())), passage_hash],
        sort_keys=True,
        ensure_ascii=True,
    )
    return hashlib.sha256(ident.encode()).hexdigest()


_INSERT_ANSWER = (
    "INSERT OR REPLACE INTO answers (key, passage_id, passage_hash, teacher, model, "
    "template, params, request, status, response, prompt_tokens, completion_tokens, "
    "finish_reason, attempts, error, latency, updated) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    key: str
    passage_id: str
    passage_hash: str
    status: str
    response: str | None
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    attempts: int
    error: str | None


class Store:
    """A thin, synchronous wrapper (one connection, used from the runner's event-loop thread)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, key: str) -> StoredAnswer | None:
        row = self.conn.execute(
            "SELECT key, passage_id, passage_hash, status, response, prompt_tokens, "
            "completion_tokens, finish_reason, attempts, error FROM answers WHERE key = ?",
            (key,),
        ).fetchone()
        return StoredAnswer(*row) if row else None

    def put(
        self,
        *,
        key: str,
        passage_id: str,
        passage_hash: str,
        teacher: str,
        model: str,
        template: str,
        params: Mapping[str, Any],
        request: Any,
        status: str,
        response: str | None = None,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        finish_reason: str | None = None,
        attempts: int = 0,
        error: str | None = None,
        latency: float | None = None,
        log: tuple[dict[str, Any], ...] = (),
    ) -> None:
        """Record an answer (or a failure) and its attempts in one transaction.

        A 'done' row is never replaced by a later 'failed' one.
        """
        now = time.time()
        row = (
            key,
            passage_id,
            passage_hash,
            teacher,
            model,
            template,
            json.dumps(dict(params), sort_keys=True),
            json.dumps(request),
            status,
            response,
            prompt_tokens,
            completion_tokens,
            finish_reason,
            attempts,
            error,
            latency,
            now,
        )
        with self.conn:
            self.conn.execute("BEGIN")
            if status != "done" and self._is_done(key):
                return
            self.conn.execute(_INSERT_ANSWER, row)
            if len(log) == 1 and log[0].get("status") == 200:
                return  # a first-try success: the answers row already says everything
            self.conn.executemany(
                "INSERT INTO attempts (key, attempt, http_status, error, seconds, logged) "
                "VALUES (?,?,?,?,?,?)",
                [
                    (key, e.get("attempt"), e.get("status"), e.get("error"), e.get("seconds"), now)
                    for e in log
                ],
            )

    def _is_done(self, key: str) -> bool:
        prev = self.conn.execute("SELECT status FROM answers WHERE key = ?", (key,)).fetchone()
        return bool(prev and prev[0] == "done")

    def counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM answers GROUP BY status"))

    def totals(self) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(prompt_tokens),0), COALESCE(SUM(completion_tokens),0),"
            " COALESCE(SUM(attempts),0) FROM answers WHERE status = 'done'"
        ).fetchone()
        return {
            "answers": row[0],
            "prompt_tokens": row[1],
            "completion_tokens": row[2],
            "attempts": row[3],
        }

    def iter_done(self) -> Iterator[StoredAnswer]:
        cur = self.conn.execute(
            "SELECT key, passage_id, passage_hash, status, response, prompt_tokens, "
            "completion_tokens, finish_reason, attempts, error FROM answers "
            "WHERE status = 'done' ORDER BY rowid"
        )
        for row in cur:
            yield StoredAnswer(*row)
