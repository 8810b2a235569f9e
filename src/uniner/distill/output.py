"""The annotations file: JSON lines appended as answers arrive, recovered on reopen.

Appending keeps partial results visible during a long run. A process killed mid-write can leave a
torn last line, so :class:`AnnotationWriter` on opening truncates the file back to the last
complete, valid line and reports which passage ids it already holds; the runner re-appends any
answer that is in the store but not in the file. The store is the source of truth, the file a
view of it: no passage appears twice and none is missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import iter_json_lines


class AnnotationWriter:
    def __init__(self, path: str | Path, *, fsync_every: int = 200) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ids: set[str] = set()
        self.recovered_bytes = 0
        self._recover()
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open for the run)
        self._since_sync = 0
        self.fsync_every = fsync_every

    def _recover(self) -> None:
        if not self.path.exists():
            return
        good = 0
        with open(self.path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break
                try:
                    rec = json.loads(raw)
                    pid = rec["id"]
                except (ValueError, KeyError, TypeError):
                    break
                if pid in self.ids:
                    break  # cannot happen with this writer; stop rather than keep a duplicate
                self.ids.add(pid)
                good += len(raw)
        size = self.path.stat().st_size
        if size != good:
            self.recovered_bytes = size - good
            with open(self.path, "r+b") as fh:
                fh.truncate(good)

    def __contains__(self, pid: str) -> bool:
        return pid in self.ids

    def write(self, record: Mapping[str, Any]) -> bool:
        """Append one record unless its id is already there; return whether it was written."""
        pid = record["id"]
        if pid in self.ids:
            return False
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()
        self.ids.add(pid)
        self._since_sync += 1
        if self._since_sync >= self.fsync_every:
            os.fsync(self._fh.fileno())
            self._since_sync = 0
        return True

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()


def read_annotations(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records of an annotations file (errors name the file and line)."""
    for line_no, rec in iter_json_lines(path, allow_empty=True):
        if not isinstance(rec, dict) or "text" not in rec or "id" not in rec:
            raise DataFormatError(
                path,
                "record lacks 'id' or 'text'",
                line=line_no,
                expected='{"id", "text", "entities", "teacher"}',
            )
        yield rec
