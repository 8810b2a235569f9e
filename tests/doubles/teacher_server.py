"""A scripted OpenAI-compatible server for tests, benchmarks and dry runs (stdlib asyncio).

It answers ``POST /v1/chat/completions`` from a *script* keyed by the passage (the text after the
last ``Passage: `` of the user message, by SHA-256 or by a substring), and ``GET /v1/models``.
Each passage has a list of *actions*; the n-th request about a passage takes action n (the last
one repeats), which is how a test says "429 first, then the answer". An action is a JSON object:

``{"content": str}``                       a 200 answer (usage counted in words)
``{"status": 429, "retry_after": 0.2}``    an error status, optionally with ``Retry-After``
``{"status": 500}``                        a server error
``{"hang": 5}``                            sleep 5 s before answering (a client timeout)
``{"delay": 0.2, "content": ...}``         a slow answer

Top-level script keys: ``models`` (served ids; other names get a 404 ``model_not_found``),
``api_key`` (required bearer key, else 401), ``latency`` (seconds added to every request),
``default`` (actions for passages not in the script), ``by_hash`` / ``by_substring``.
Every request is appended to a JSON-lines request log (passage hash, attempt number, status),
flushed per line, so a test can prove what was asked and how often.

Run it standalone from a checkout (a test double, not part of the installed package):
``python tests/doubles/teacher_server.py --script s.json --port 0 --port-file port.txt
--log requests.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def passage_of(messages: list[dict[str, Any]]) -> str:
    user = [m for m in messages if m.get("role") == "user"]
    content = str(user[-1].get("content", "")) if user else ""
    _head, sep, tail = content.rpartition("Passage: ")
    return tail if sep else content


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tuples_answer(pairs: Iterable[tuple[str, str]]) -> str:
    """The answer a well-behaved teacher gives: ``[("m", "t"), ...]``."""
    return "[" + ", ".join(f"({json.dumps(m)}, {json.dumps(t)})" for m, t in pairs) + "]"


NOISE_SHAPES = (
    "single_quotes",
    "code_fence",
    "prose",
    "truncated",
    "json_lists",
    "hallucination",
    "else_type",
    "unparseable",
    "http_429",
    "http_500",
)


def _render(pairs: list[tuple[str, str]], shape: str) -> list[dict[str, Any]]:
    """Actions answering ``pairs`` in one of the shapes real teachers produce."""
    well = tuples_answer(pairs)
    if shape == "single_quotes":
        body = ", ".join(f"('{m}', '{t}')" for m, t in pairs)
        return [{"content": f"[{body}]"}]
    if shape == "code_fence":
        return [{"content": f"```python\n{well}\n```"}]
    if shape == "prose":
        return [{"content": f"Here are the entities in the passage:\n{well}\nLet me know!"}]
    if shape == "truncated":
        return [{"content": well[: max(1, int(len(well) * 0.7))], "finish_reason": "length"}]
    if shape == "json_lists":
        return [{"content": json.dumps([[m, t] for m, t in pairs])}]
    if shape == "hallucination":
        return [{"content": tuples_answer([*pairs, ("Atlantis Corporation", "organization")])}]
    if shape == "else_type":
        return [{"content": tuples_answer([*pairs, (pairs[0][0], "MISC")] if pairs else [])}]
    if shape == "unparseable":
        return [{"content": "I'm sorry, but I can't identify entities in this passage."}]
    if shape == "http_429":
        return [{"status": 429, "retry_after": 0.05}, {"content": well}]
    if shape == "http_500":
        return [{"status": 500}, {"content": well}]
    return [{"content": well}]


def script_from_examples(
    examples: Iterable[Any], *, noise: float = 0.0, seed: int = 0, models: list[str] | None = None
) -> dict[str, Any]:
    """A script answering each example's passage with its gold (mention, type) pairs, in
    order of appearance; a seeded ``noise`` fraction uses one of :data:`NOISE_SHAPES`."""
    import random

    rng = random.Random(seed)
    by_hash: dict[str, list[dict[str, Any]]] = {}
    for ex in examples:
        pairs = list(dict.fromkeys((e.text, e.label) for e in ex.entities))
        shape = rng.choice(NOISE_SHAPES) if rng.random() < noise else "well_formed"
        actions = _render(pairs, shape)
        by_hash[sha(ex.text)] = actions
        by_hash[sha(ex.text.strip())] = actions
    return {"models": models or ["scripted"], "by_hash": by_hash, "default": [{"content": "[]"}]}


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ScriptedServer:
    """The server, on its own asyncio loop in a background thread (or in the foreground via
    :meth:`serve_forever`). asyncio rather than a thread per connection: at 32 concurrent
    slow requests a threaded server spends its CPU switching threads, and the benchmark must
    measure the client, not the stub."""

    def __init__(
        self,
        script: dict[str, Any],
        log_path: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.script = script
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        self.log_path = Path(log_path) if log_path else None
        self._log = open(self.log_path, "a", encoding="utf-8") if self.log_path else None  # noqa: SIM115
        self.requests: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, host, port, backlog=1024)
        )
        self.server_address = self._server.sockets[0].getsockname()[:2]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def actions_for(self, text: str) -> list[dict[str, Any]]:
        h = sha(text)
        by_hash = self.script.get("by_hash", {})
        if h in by_hash:
            return by_hash[h]
        for sub, actions in self.script.get("by_substring", {}).items():
            if sub in text:
                return actions
        return self.script.get("default", [{"content": "[]"}])

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)
            if self._log:
                self._log.write(json.dumps(entry) + "\n")
                self._log.flush()

    # --- lifecycle ---------------------------------------------------------------------------

    def serve_forever(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def start(self) -> ScriptedServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()

        if self._thread is not None:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()
        if self._log:
            self._log.close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- HTTP --------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path = ([*lines[0].split(" "), "", ""])[:2]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, payload, extra = await self._respond(method, path, headers, body)
                data = json.dumps(payload).encode()
                out = [
                    f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
                    "Content-Type: application/json",
                    f"Content-Length: {len(data)}",
                ]
                out += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    def _unauthorised(self, headers: dict[str, str]) -> tuple[int, Any, dict] | None:
        key = self.script.get("api_key")
        if key and headers.get("authorization") != f"Bearer {key}":
            return (
                401,
                {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}},
                {},
            )
        return None

    async def _respond(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        route = path.split("?")[0].rstrip("/")
        if method == "GET" and route.endswith("/models"):
            models = [{"id": m, "object": "model"} for m in self.script.get("models", ["scripted"])]
            return self._unauthorised(headers) or (200, {"object": "list", "data": models}, {})
        if method != "POST" or not route.endswith("/chat/completions"):
            return 404, {"error": {"message": f"no route {method} {path}"}}, {}
        denied = self._unauthorised(headers)
        if denied:
            return denied
        try:
            body = json.loads(raw)
            messages = body["messages"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": {"message": "bad request body"}}, {}
        model = body.get("model")
        if model not in self.script.get("models", ["scripted"]):
            error = {"message": f"The model `{model}` does not exist", "code": "model_not_found"}
            return 404, {"error": error}, {}
        return await self._complete(model, messages)

    async def _complete(self, model: str, messages: list[Any]) -> tuple[int, Any, dict[str, str]]:
        """The scripted action for this passage's next attempt: its delay, then its error or
        its answer (recorded by :meth:`record` either way)."""
        text = passage_of(messages)
        h = sha(text)
        with self.lock:
            attempt = self.counts[h]
            self.counts[h] += 1
        actions = self.actions_for(text)
        action = actions[min(attempt, len(actions) - 1)]
        status = int(action.get("status", 200))
        self.record(
            {"t": time.time(), "hash": h, "attempt": attempt, "status": status, "model": model}
        )
        delay = float(self.script.get("latency", 0)) + float(action.get("delay", 0))
        delay += float(action.get("hang", 0))
        if delay:
            await asyncio.sleep(delay)
        if status != 200:
            extra = {"Retry-After": str(action["retry_after"])} if "retry_after" in action else {}
            message = action.get("message", f"scripted {status}")
            return status, {"error": {"message": message, "type": "scripted"}}, extra
        return 200, _chat_completion(f"chatcmpl-{h[:12]}-{attempt}", model, action, messages), {}


def _chat_completion(
    cid: str, model: str, action: dict[str, Any], messages: list[Any]
) -> dict[str, Any]:
    """An OpenAI chat completion answering ``action["content"]`` (words counted as tokens)."""
    content = action.get("content", "[]")
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
    completion = len(content.split())
    return {
        "id": cid,
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": action.get("finish_reason", "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--script", type=Path, help="script JSON (default: answer [] to all)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", type=Path, help="write the chosen port here")
    ap.add_argument("--log", type=Path, help="request log (JSON lines)")
    ap.add_argument("--latency", type=float, help="seconds added to every request")
    ap.add_argument(
        "--gold",
        type=Path,
        help="answer passages with this file's annotations "
        "(any format uniner reads: BIO, SLIMER jsonl, conversations...)",
    )
    ap.add_argument(
        "--noise",
        type=float,
        default=0.0,
        help="with --gold: fraction of answers in malformed shapes or errors",
    )
    ap.add_argument("--model", action="append", help="served model id(s) (default: scripted)")
    args = ap.parse_args(argv)
    script = json.loads(args.script.read_text()) if args.script else {}
    if args.gold:
        from uniner.data.readers import read_examples

        script = {**script_from_examples(read_examples(args.gold), noise=args.noise), **script}
    if args.model:
        script["models"] = args.model
    if args.latency is not None:
        script["latency"] = args.latency
    server = ScriptedServer(script, args.log, port=args.port)
    if args.port_file:
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(server.server_address[1]))
        tmp.replace(args.port_file)
    print(f"scripted OpenAI-compatible server at {server.base_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.stop()


if __name__ == "__main__":
    main()
