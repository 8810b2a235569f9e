"""A scripted OpenAI-compatible server for tests, benchmarks and dry runs (stdlib only).

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

Run it standalone: ``python -m uniner.distill.mockserver --script s.json --port 0
--port-file port.txt --log requests.jsonl``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


NOISE_SHAPES = ("single_quotes", "code_fence", "prose", "truncated", "json_lists",
                "hallucination", "else_type", "unparseable", "http_429", "http_500")


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


def script_from_examples(examples: Iterable[Any], *, noise: float = 0.0, seed: int = 0,
                         models: list[str] | None = None) -> dict[str, Any]:
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


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, script: dict[str, Any], log_path: str | Path | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.script = script
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        self.log_path = Path(log_path) if log_path else None
        self._log = open(self.log_path, "a", encoding="utf-8") if self.log_path else None  # noqa: SIM115
        self.requests: list[dict[str, Any]] = []
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

    def start(self) -> ScriptedServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._log:
            self._log.close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to answer

    def _auth_ok(self) -> bool:
        key = self.server.script.get("api_key")
        if key and self.headers.get("Authorization") != f"Bearer {key}":
            self._send(401, {"error": {"message": "Incorrect API key provided",
                                       "code": "invalid_api_key"}})
            return False
        return True

    def do_GET(self) -> None:
        if not self.path.rstrip("/").endswith("/models"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        if not self._auth_ok():
            return
        models = self.server.script.get("models", ["scripted"])
        self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in models]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        if not self._auth_ok():
            return
        try:
            body = json.loads(raw)
            messages = body["messages"]
        except (ValueError, KeyError):
            self._send(400, {"error": {"message": "bad request body"}})
            return
        model = body.get("model")
        models = self.server.script.get("models", ["scripted"])
        if model not in models:
            self._send(404, {"error": {"message": f"The model `{model}` does not exist",
                                       "code": "model_not_found"}})
            return
        text = passage_of(messages)
        h = sha(text)
        with self.server.lock:
            attempt = self.server.counts[h]
            self.server.counts[h] += 1
        actions = self.server.actions_for(text)
        action = actions[min(attempt, len(actions) - 1)]
        self.server.record({"t": time.time(), "hash": h, "attempt": attempt,
                            "status": action.get("status", 200), "model": model})
        delay = float(self.server.script.get("latency", 0)) + float(action.get("delay", 0))
        delay += float(action.get("hang", 0))
        if delay:
            time.sleep(delay)
        status = int(action.get("status", 200))
        if status != 200:
            headers = {}
            if "retry_after" in action:
                headers["Retry-After"] = str(action["retry_after"])
            self._send(status, {"error": {"message": action.get("message", f"scripted {status}"),
                                          "type": "scripted"}}, headers)
            return
        content = action.get("content", "[]")
        prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion = len(content.split())
        self._send(200, {
            "id": f"chatcmpl-{h[:12]}-{attempt}",
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": action.get("finish_reason", "stop")}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        })


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--script", type=Path, help="script JSON (default: answer [] to all)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", type=Path, help="write the chosen port here")
    ap.add_argument("--log", type=Path, help="request log (JSON lines)")
    ap.add_argument("--latency", type=float, help="seconds added to every request")
    ap.add_argument("--gold", type=Path, help="answer passages with this file's annotations "
                    "(any format uniner reads: BIO, SLIMER jsonl, conversations...)")
    ap.add_argument("--noise", type=float, default=0.0,
                    help="with --gold: fraction of answers in malformed shapes or errors")
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


if __name__ == "__main__":
    main()
