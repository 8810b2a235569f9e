"""``uniner distill``: corpus + teacher -> annotations, report and (optionally) instruction data.

A thin layer over :mod:`uniner.distill.pipeline`: the options (and ``--config``, a TOML file with
keys named like the options with underscores; relative ``inputs`` and ``out`` are relative to the
file; the options override it) become one :class:`~uniner.distill.settings.DistillSettings`, which
:func:`~uniner.distill.pipeline.run` carries out; this module only shows the progress and prints
the summary. What lands in ``--out`` is listed in the pipeline's docstring.

Several teacher endpoints serving the same model: repeat ``--teacher-url URL[,concurrency=N,
rpm=R,tpm=T,name=S]`` or give ``[[endpoints]]`` tables in the config (see
:mod:`uniner.distill.teachers.endpoints`); the run then fails over between them and ends with a
per-endpoint table (also in ``report.json`` under ``run.endpoints`` and in ``report.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from uniner.cli import app
from uniner.cli.errors import USAGE, UserError
from uniner.distill import EXTRA_MODULES as DISTILL_MODULES
from uniner.distill.settings import DEFAULTS
from uniner.extras import require
from uniner.scale.options import AddressOption, DistillEngineOption, ShardSizeOption

if TYPE_CHECKING:
    from uniner.distill.pipeline import DistillResult, ShardEngine
    from uniner.distill.runner import Pricing, RunStats


class _Bar:
    """The annotate step's progress as a tqdm bar on stderr, with the cost so far."""

    def __init__(self, pricing: Pricing) -> None:
        self.pricing = pricing
        self.bar: Any = None

    def start(self, total: int) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped]

        self.bar = tqdm(
            total=total, unit="passage", dynamic_ncols=True, file=sys.stderr, desc="distill"
        )

    def update(self, stats: RunStats, done: int) -> None:
        self.bar.update(done - self.bar.n)
        cost = self.pricing.cost(stats.prompt_tokens, stats.completion_tokens)
        self.bar.set_postfix(
            cost=f"{cost:.4f}",
            asked=stats.asked,
            cached=stats.cached,
            failed=stats.failed,
            refresh=False,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary(result: DistillResult) -> list[str]:
    rep = result.report
    lines = [
        f"{rep['passages']:,} passages, {rep['mentions']:,} mentions, "
        f"{rep['distinct_types']:,} types, {rep['parse_failures']:,} parse failures, "
        f"{rep['hallucinated']:,} hallucinated, tokens {rep['tokens_in']:,}/{rep['tokens_out']:,},"
        f" cost {rep['cost']:.4f}"
    ]
    if result.endpoints:
        from uniner.distill.report import endpoint_table

        lines += endpoint_table(result.endpoints)
    return [*lines, f"report: {result.report_paths['md']}"]


# Every option defaults to None ("not given"), so the config file and the DistillSettings
# defaults apply; the values are checked by DistillSettings, not here.


def _default(name: str) -> str:
    """The help's ``[default: ...]``, from the one place the defaults live."""
    value = DEFAULTS[name]
    return "none" if value is None else str(value)


Inputs = Annotated[
    list[str] | None,
    typer.Argument(help="corpus files, folders or globs (.txt/.md paragraphs, .jsonl, .gz)"),
]
Out = Annotated[Path | None, typer.Option("--out", "-o", help="output folder")]
Config = Annotated[Path | None, typer.Option("--config", "-c", help="TOML settings")]
Endpoints = Annotated[
    list[str] | None,
    typer.Option(
        "--teacher-url",
        help="a teacher endpoint, URL[,concurrency=N,rpm=R,tpm=T,name=S]; repeat for several "
        "(replaces --base-url; --concurrency is then the per-endpoint default)",
    ),
]
Dedup = Annotated[bool | None, typer.Option("--dedup/--no-dedup", show_default=_default("dedup"))]
Instruct = Annotated[
    bool | None,
    typer.Option(
        "--instruct/--no-instruct",
        help="also build instruct.json",
        show_default=_default("instruct"),
    ),
]
ReportOnly = Annotated[
    bool | None,
    typer.Option("--report-only", help="rebuild the report from --out, ask nothing"),
]
TextField = Annotated[
    str | None, typer.Option(help="JSONL text field (dotted)", show_default=_default("text_field"))
]
IdField = Annotated[
    str | None, typer.Option(help="JSONL id field (dotted)", show_default=_default("id_field"))
]
TextUnit = Annotated[
    str | None,
    typer.Option(help="text files: paragraph|line|file", show_default=_default("text_unit")),
]
MaxTokens = Annotated[
    int | None,
    typer.Option(help="passage length limit (tokens)", show_default=_default("max_tokens")),
]
Tokenizer = Annotated[
    str | None,
    typer.Option(
        help="'whitespace' or a backbone name/folder/hub id", show_default=_default("tokenizer")
    ),
]
Sample = Annotated[
    int | None, typer.Option(help="sample N passages (seeded)", show_default=_default("sample"))
]
Seed = Annotated[
    int | None, typer.Option(help="sampling and shuffling seed", show_default=_default("seed"))
]
NearDup = Annotated[
    float | None,
    typer.Option(help="near-duplicate Jaccard (0=off)", show_default=_default("near_dup")),
]
Teacher = Annotated[
    str | None, typer.Option(help="openai | local", show_default=_default("teacher"))
]
BaseUrl = Annotated[
    str | None, typer.Option(help="OpenAI-compatible base URL", show_default=_default("base_url"))
]
Model = Annotated[
    str | None,
    typer.Option(help="teacher model (or local backbone)", show_default=_default("model")),
]
ApiKeyEnv = Annotated[
    str | None,
    typer.Option(
        help="environment variable holding the API key", show_default=_default("api_key_env")
    ),
]
Template = Annotated[
    str | None,
    typer.Option(
        help="pile-ner-type | pile-ner-definition | a template .json",
        show_default=_default("template"),
    ),
]
Temperature = Annotated[float | None, typer.Option(show_default=_default("temperature"))]
MaxNewTokens = Annotated[
    int | None, typer.Option(help="answer length limit", show_default=_default("max_new_tokens"))
]
Timeout = Annotated[
    float | None, typer.Option(help="seconds per request", show_default=_default("timeout"))
]
MaxRetries = Annotated[int | None, typer.Option(show_default=_default("max_retries"))]
Concurrency = Annotated[
    int | None, typer.Option(help="requests in flight", show_default=_default("concurrency"))
]
Rpm = Annotated[
    float | None, typer.Option(help="requests per minute limit", show_default=_default("rpm"))
]
Tpm = Annotated[
    float | None, typer.Option(help="tokens per minute limit", show_default=_default("tpm"))
]
PriceIn = Annotated[
    float | None, typer.Option(help="price per 1M input tokens", show_default=_default("price_in"))
]
PriceOut = Annotated[
    float | None,
    typer.Option(help="price per 1M output tokens", show_default=_default("price_out")),
]
Negatives = Annotated[
    str | None, typer.Option(help="none | uniform | frequency", show_default=_default("negatives"))
]
NNegatives = Annotated[
    int | None,
    typer.Option(help="sampled negatives per passage", show_default=_default("n_negatives")),
]


def _shard_engine(engine: str) -> ShardEngine | None:
    """The engine that annotates passage shards off this process (None: in this process)."""
    if engine != "ray":
        return None
    from uniner.scale.ray_distill import annotate_on_ray

    return annotate_on_ray


@app.command("distill")
def distill(
    inputs: Inputs = None,
    out: Out = None,
    config: Config = None,
    text_field: TextField = None,
    id_field: IdField = None,
    text_unit: TextUnit = None,
    max_tokens: MaxTokens = None,
    tokenizer: Tokenizer = None,
    sample: Sample = None,
    seed: Seed = None,
    dedup: Dedup = None,
    near_dup: NearDup = None,
    teacher: Teacher = None,
    base_url: BaseUrl = None,
    endpoints: Endpoints = None,
    model: Model = None,
    api_key_env: ApiKeyEnv = None,
    template: Template = None,
    temperature: Temperature = None,
    max_new_tokens: MaxNewTokens = None,
    timeout: Timeout = None,
    max_retries: MaxRetries = None,
    concurrency: Concurrency = None,
    rpm: Rpm = None,
    tpm: Tpm = None,
    price_in: PriceIn = None,
    price_out: PriceOut = None,
    instruct: Instruct = None,
    negatives: Negatives = None,
    n_negatives: NNegatives = None,
    report_only: ReportOnly = None,
    engine: DistillEngineOption = None,
    address: AddressOption = None,
    shard_size: ShardSizeOption = None,
) -> None:
    """Annotate a corpus with a teacher LLM (resumable), report, build instruction data."""
    options = {k: v for k, v in locals().items() if k != "config"}
    require(DISTILL_MODULES, "distill", "uniner distill")
    from uniner.distill.pipeline import run
    from uniner.distill.settings import DistillSettingsError, load_settings
    from uniner.distill.teachers import FatalTeacherError

    try:
        settings = load_settings(config, options)
        result = run(
            settings,
            log=lambda line: typer.echo(line, err=True),
            progress=_Bar(settings.pricing),
            shard_engine=_shard_engine(settings.engine),
        )
    except DistillSettingsError as exc:
        raise UserError(str(exc), USAGE) from None
    except FatalTeacherError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from None
    typer.echo("\n".join(_summary(result)))
