"""``uniner serve``: the HTTP API and web page (FastAPI on uvicorn) around one loaded model.

The options' defaults are :class:`~uniner.serving.settings.ServeSettings`' own (one source of
truth); their types live in module-level aliases so the command reads as a list of settings.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer

from uniner.cli import app
from uniner.cli.errors import backbone_errors
from uniner.cli.runtime import OnnxDirOption, Runtime, RuntimeOption, apply_runtime, check_runtime
from uniner.serving.settings import ServeSettings  # a plain dataclass: no server packages

_D = ServeSettings()  # the defaults: one source of truth for the CLI, the app and the tests

ModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="shipped name, folder or hub id")
]
HostOpt = Annotated[str, typer.Option(help="interface to bind (0.0.0.0 for all)")]
ApiKeyEnvOpt = Annotated[
    str | None, typer.Option(help="name of an environment variable holding the API key to require")
]
TextCharsOpt = Annotated[int, typer.Option(help="longest text (characters)")]
LabelsOpt = Annotated[int, typer.Option(help="most labels per request")]
LabelCharsOpt = Annotated[int, typer.Option(help="longest label (characters)")]
TextsOpt = Annotated[int, typer.Option(help="most texts per request")]
BodyBytesOpt = Annotated[int, typer.Option(help="largest request body (bytes)")]
TimeoutOpt = Annotated[
    float, typer.Option(help="seconds before a request gets 504 (its work is stopped)")
]
RequestCostOpt = Annotated[
    int, typer.Option(help="most estimated work per request, characters x labels (0: no cap)")
]
QueueCostOpt = Annotated[
    int, typer.Option(help="most estimated work waiting or running (then 503 + Retry-After)")
]
BatchTextsOpt = Annotated[int, typer.Option(help="most texts in one model call")]
BatchWaitOpt = Annotated[float, typer.Option(help="longest wait for more requests to batch (ms)")]
MicroBatchingOpt = Annotated[
    bool, typer.Option(help="batch concurrent requests into one model call")
]
QueueTextsOpt = Annotated[int, typer.Option(help="most texts waiting (then 503)")]
GracefulOpt = Annotated[
    float, typer.Option(help="seconds to finish requests in flight on SIGTERM/SIGINT")
]
HeaderTimeoutOpt = Annotated[
    float, typer.Option(help="seconds a client has to send its request headers")
]
BodyTimeoutOpt = Annotated[
    float, typer.Option(help="seconds a client has to send its request body (then 408)")
]
PortOpt = Annotated[int, typer.Option(help="TCP port")]
ThreadsOpt = Annotated[int | None, typer.Option(help="CPU threads")]
ModelBatchOpt = Annotated[int, typer.Option(help="encoder inputs per forward pass")]
LogLevelOpt = Annotated[str, typer.Option(help="uvicorn log level")]
KeepAliveOpt = Annotated[float, typer.Option(help="seconds an idle connection is kept")]

# option name -> ServeSettings field, where they differ (the others are spelled alike)
_FIELD_OF = {
    "timeout": "request_timeout_s",
    "batch_wait_ms": "batch_max_wait_ms",
    "graceful_timeout": "graceful_timeout_s",
    "header_timeout": "header_timeout_s",
    "body_timeout": "body_timeout_s",
    "keep_alive": "keep_alive_s",
}


@app.command("serve")
def serve(
    model: ModelOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    api_key_env: ApiKeyEnvOpt = None,
    max_text_chars: TextCharsOpt = _D.max_text_chars,
    max_labels: LabelsOpt = _D.max_labels,
    max_label_chars: LabelCharsOpt = _D.max_label_chars,
    max_texts: TextsOpt = _D.max_texts,
    max_body_bytes: BodyBytesOpt = _D.max_body_bytes,
    timeout: TimeoutOpt = _D.request_timeout_s,
    max_request_cost: RequestCostOpt = _D.max_request_cost or 0,
    max_queue_cost: QueueCostOpt = _D.max_queue_cost,
    batch_max_texts: BatchTextsOpt = _D.batch_max_texts,
    batch_wait_ms: BatchWaitOpt = _D.batch_max_wait_ms,
    micro_batching: MicroBatchingOpt = _D.micro_batching,
    max_queue_texts: QueueTextsOpt = _D.max_queue_texts,
    graceful_timeout: GracefulOpt = _D.graceful_timeout_s,
    header_timeout: HeaderTimeoutOpt = _D.header_timeout_s,
    body_timeout: BodyTimeoutOpt = _D.body_timeout_s,
    keep_alive: KeepAliveOpt = _D.keep_alive_s,
    threads: ThreadsOpt = None,
    model_batch_size: ModelBatchOpt = 16,
    log_level: LogLevelOpt = "info",
    runtime: RuntimeOption = Runtime.torch,
    onnx_dir: OnnxDirOption = None,
) -> None:
    """Serve POST /v1/extract, GET /v1/models, GET /health, the page at / and docs at /docs."""
    settings = _settings(dict(locals()), api_key_env)
    check_runtime(runtime, onnx_dir)
    from uniner import load
    from uniner.serving.server import serve as run_server

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


def _settings(options: dict[str, Any], api_key_env: str | None) -> ServeSettings:
    """The server's settings from the command's options (checked before the model loads)."""
    try:
        from uniner.serving import server  # noqa: F401  (FastAPI/uvicorn: the 'serve' extra)
    except ImportError as exc:
        raise typer.BadParameter(
            f"{exc.name} is not installed; install the server with: pip install 'uniner[serve]'"
        ) from exc
    fields = set(ServeSettings.__dataclass_fields__)
    values = {_FIELD_OF.get(k, k): v for k, v in options.items()}
    values = {k: v for k, v in values.items() if k in fields}
    values["max_request_cost"] = values["max_request_cost"] or None  # 0: no cap
    try:
        return ServeSettings(**values).with_api_key_from_env(api_key_env)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
