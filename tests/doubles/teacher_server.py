"""A scripted OpenAI-compatible server for tests, benchmarks and dry runs (FastAPI, uvicorn).

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
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

try:
    import uvicorn
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ImportError as exc:  # tests import this module through conftest.require(..., "serve")
    raise ImportError(f"the scripted teacher needs the serve extra: {exc}") from exc


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


class ScriptedServer:
    """The scripted teacher: a FastAPI app served by uvicorn, on its own thread (:meth:`start`,
    or ``with``) or in the foreground (:meth:`serve_forever`). The socket is bound when the
    object is made, so :attr:`base_url` is known (and connections queue) before it serves.

    :meth:`stop` is an endpoint going away: it stops listening, closes every open connection
    (a request in flight gets no answer, as from a killed server) and wakes every scripted
    delay, so a ``hang`` never holds the shutdown."""

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
        self._sock = socket.create_server((host, port), backlog=1024)
        self.server_address = self._sock.getsockname()[:2]
        self._closing = asyncio.Event()  # bound to uvicorn's loop when first awaited there
        self._uvicorn = uvicorn.Server(
            uvicorn.Config(
                create_app(self),
                log_config=None,  # leave the host process's logging alone
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=5,
            )
        )
        self._loop: asyncio.AbstractEventLoop | None = None
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
        """In the foreground until SIGINT/SIGTERM (uvicorn's own signal handling)."""
        self._uvicorn.run(sockets=[self._sock])

    def start(self, timeout: float = 60.0) -> ScriptedServer:
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._uvicorn.serve(sockets=[self._sock]))
            self._loop.close()

        self._thread = threading.Thread(target=run, name="scripted-teacher", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout  # a bound for a broken start, not a speed claim
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the scripted teacher at {self.base_url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._thread is not None and self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._go_away(), self._loop).result(timeout=30)
            self._thread.join(timeout=30)
            self._thread = None
        self._sock.close()
        if self._log:
            self._log.close()
            self._log = None

    async def _go_away(self) -> None:
        """Stop listening, drop every connection, wake the delays; then let uvicorn exit."""
        for server in self._uvicorn.servers:
            server.close()
        for connection in list(self._uvicorn.server_state.connections):
            connection.transport.close()
        self._closing.set()
        self._uvicorn.should_exit = True

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- answers -----------------------------------------------------------------------------

    def unauthorised(self, request: Request) -> JSONResponse | None:
        key = self.script.get("api_key")
        if key and request.headers.get("authorization") != f"Bearer {key}":
            error = {"message": "Incorrect API key provided", "code": "invalid_api_key"}
            return JSONResponse({"error": error}, status_code=401)
        return None

    def models(self) -> list[str]:
        return list(self.script.get("models", ["scripted"]))

    async def complete(self, model: str, messages: list[Any]) -> JSONResponse:
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
            with contextlib.suppress(TimeoutError):  # woken early only by stop()
                await asyncio.wait_for(self._closing.wait(), delay)
        if status != 200:
            extra = {"Retry-After": str(action["retry_after"])} if "retry_after" in action else {}
            message = action.get("message", f"scripted {status}")
            error = {"error": {"message": message, "type": "scripted"}}
            return JSONResponse(error, status_code=status, headers=extra)
        cid = f"chatcmpl-{h[:12]}-{attempt}"
        return JSONResponse(_chat_completion(cid, model, action, messages))


def create_app(server: ScriptedServer) -> FastAPI:
    """The OpenAI routes the teachers use; the script is read per request (a test may swap
    ``server.script`` between runs)."""
    app = FastAPI(title="scripted teacher", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(StarletteHTTPException)
    async def no_route(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = f"no route {request.method} {request.url.path}"
        return JSONResponse({"error": {"message": message}}, status_code=404)

    @app.get("/v1/models")
    async def models(request: Request) -> JSONResponse:
        listed = [{"id": m, "object": "model"} for m in server.models()]
        return server.unauthorised(request) or JSONResponse({"object": "list", "data": listed})

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> JSONResponse:
        denied = server.unauthorised(request)
        if denied:
            return denied
        try:
            body = json.loads(await request.body())
            messages = body["messages"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": {"message": "bad request body"}}, status_code=400)
        model = body.get("model")
        if model not in server.models():
            error = {"message": f"The model `{model}` does not exist", "code": "model_not_found"}
            return JSONResponse({"error": error}, status_code=404)
        return await server.complete(model, messages)

    return app


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
