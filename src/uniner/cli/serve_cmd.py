"""``uniner serve``: the HTTP API and web page (FastAPI on uvicorn) around one loaded model."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from uniner.cli import app
from uniner.cli.errors import backbone_errors
from uniner.cli.runtime import OnnxDirOption, Runtime, RuntimeOption, apply_runtime, check_runtime


@app.command("serve")
def serve(
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="shipped name, folder or hub id")
    ] = None,
    host: Annotated[str, typer.Option(help="interface to bind (0.0.0.0 for all)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    api_key_env: Annotated[
        str | None,
        typer.Option(help="name of an environment variable holding the API key to require"),
    ] = None,
    max_text_chars: Annotated[int, typer.Option(help="longest text (characters)")] = 20_000,
    max_labels: Annotated[int, typer.Option(help="most labels per request")] = 32,
    max_label_chars: Annotated[int, typer.Option(help="longest label (characters)")] = 100,
    max_texts: Annotated[int, typer.Option(help="most texts per request")] = 64,
    max_body_bytes: Annotated[int, typer.Option(help="largest request body (bytes)")] = 1_000_000,
    timeout: Annotated[
        float, typer.Option(help="seconds before a request gets 504 (its work is stopped)")
    ] = 30.0,
    max_request_cost: Annotated[
        int,
        typer.Option(help="most estimated work per request, characters x labels (0: no cap)"),
    ] = 50_000,
    max_queue_cost: Annotated[
        int, typer.Option(help="most estimated work waiting or running (then 503 + Retry-After)")
    ] = 1_000_000,
    batch_max_texts: Annotated[int, typer.Option(help="most texts in one model call")] = 32,
    batch_wait_ms: Annotated[
        float, typer.Option(help="longest wait for more requests to batch (ms)")
    ] = 5.0,
    micro_batching: Annotated[
        bool, typer.Option(help="batch concurrent requests into one model call")
    ] = True,
    max_queue_texts: Annotated[int, typer.Option(help="most texts waiting (then 503)")] = 2048,
    graceful_timeout: Annotated[
        float, typer.Option(help="seconds to finish requests in flight on SIGTERM/SIGINT")
    ] = 30.0,
    header_timeout: Annotated[
        float, typer.Option(help="seconds a client has to send its request headers")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(help="seconds a client has to send its request body (then 408)")
    ] = 30.0,
    keep_alive: Annotated[float, typer.Option(help="seconds an idle connection is kept")] = 5.0,
    threads: Annotated[int | None, typer.Option(help="CPU threads")] = None,
    model_batch_size: Annotated[int, typer.Option(help="encoder inputs per forward pass")] = 16,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
    runtime: RuntimeOption = Runtime.torch,
    onnx_dir: OnnxDirOption = None,
) -> None:
    """Serve POST /v1/extract, GET /v1/models, GET /health, the page at / and docs at /docs."""
    try:
        from uniner.serving.server import serve as run_server
        from uniner.serving.settings import ServeSettings
    except ImportError as exc:  # FastAPI/uvicorn are the 'serve' extra
        raise typer.BadParameter(
            f"{exc.name} is not installed; install the server with: pip install 'uniner[serve]'"
        ) from exc
    try:
        settings = ServeSettings(
            max_text_chars=max_text_chars,
            max_labels=max_labels,
            max_label_chars=max_label_chars,
            max_texts=max_texts,
            max_body_bytes=max_body_bytes,
            request_timeout_s=timeout,
            max_request_cost=max_request_cost or None,
            max_queue_cost=max_queue_cost,
            batch_max_texts=batch_max_texts,
            batch_max_wait_ms=batch_wait_ms,
            micro_batching=micro_batching,
            max_queue_texts=max_queue_texts,
            graceful_timeout_s=graceful_timeout,
            header_timeout_s=header_timeout,
            body_timeout_s=body_timeout,
            keep_alive_s=keep_alive,
        ).with_api_key_from_env(api_key_env)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    check_runtime(runtime, onnx_dir)

    from uniner import load

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    typer.echo(f"loading model {model or '(default)'} ...", err=True)
    try:
        with backbone_errors():
            extractor = load(model, threads=threads, batch_size=model_batch_size)
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from exc
    apply_runtime(extractor, runtime, onnx_dir)
    key_note = f", API key from ${api_key_env}" if settings.api_key else ""
    typer.echo(
        f"serving {extractor.name} on {runtime.value} at http://{host}:{port} "
        f"(page at /, docs at /docs{key_note})",
        err=True,
    )
    run_server(extractor, settings, host=host, port=port, log_level=log_level)
