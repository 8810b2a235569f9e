"""The self-distillation pool on the shared data: only training text, never a zero-shot set, a dev
split or the dev suite's held-out Pile-NER passages; and ``uniner distill-scores`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uniner.benchmark.devsuite import DEV_SUITE, PILE_NER_HELDOUT
from uniner.benchmark.registry import get, suite
from uniner.data.sources import in_pile_ner_heldout
from uniner.students.span.selfdistill import PILE_NER, default_pool_sources
from uniner.students.span.selfdistill_store import read_manifest, read_store


@pytest.fixture(scope="module")
def pool(shared_data: Path):
    from uniner.cli.train_cmd import dev_suite_texts

    return default_pool_sources(shared_data, exclude_texts=dev_suite_texts(shared_data))


def test_pool_is_training_text_only(pool) -> None:
    names = [s.name for s in pool]
    zero_shot = {s.name for s in suite("zero-shot")}
    assert names[0] == PILE_NER and "MultiCoNER2" in names and "conllpp" in names
    assert not zero_shot & set(names)
    assert not any(n.lower().startswith(("crossner", "mit")) for n in names)
    assert all(s.split == "train" for s in pool)
    for s in pool[1:]:
        assert not get(s.name).zero_shot
    pile = pool[0].examples
    assert len(pile) > 1000 and not any(in_pile_ner_heldout(ex.text) for ex in pile)
    assert PILE_NER_HELDOUT not in names


def test_pool_holds_no_dev_suite_passage(pool, shared_data: Path) -> None:
    from uniner.benchmark.devsuite import load_dev_set

    texts = {ex.text for s in pool for ex in s.examples}
    for name in (PILE_NER_HELDOUT, "MultiCoNER2", "conllpp"):
        dev = load_dev_set(name, DEV_SUITE, shared_data)
        # short sentences ("Results :") can recur across splits; a passage of 8+ words may not
        long = [ex.text for ex in dev.examples if len(ex.text.split()) >= 8]
        assert long and not texts & set(long), name


def test_unknown_or_zero_shot_source_is_refused(shared_data: Path) -> None:
    with pytest.raises(ValueError, match="CrossNER_AI"):
        default_pool_sources(shared_data, ["CrossNER_AI"])


def test_cli_scores_a_small_pool(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.doubles.span import tiny_span_parts
    from uniner.cli import _register, app
    from uniner.data.splits import load_split
    from uniner.students.span.io import save_model
    from uniner.students.span.selfdistill import fold_text

    first = load_split(get("Ex-PTM"), "train", shared_data).examples[0].text
    # the dev-suite texts the CLI leaves out (the real ones are checked above)
    monkeypatch.setattr("uniner.cli.train_cmd.dev_suite_texts", lambda: {fold_text(first)})

    model, _ = tiny_span_parts(tmp_path / "backbone")
    save_model(model, tmp_path / "teacher", storage="full", meta={"name": "tiny"})
    _register()
    args = ["distill-scores", "--teacher", str(tmp_path / "teacher"), "--out", str(tmp_path / "s")]
    args += ["--source", "Ex-PTM", "--max-pieces", "5", "--shard-pieces", "2", "--floor", "0.5"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["pieces"] == 5
    manifest = read_manifest(tmp_path / "s")
    assert [s["pieces"] for s in manifest["shards"]] == [2, 2, 1]
    assert manifest["settings"]["sources"] == [["Ex-PTM", "train", 1376]]
    assert all(p.source == "Ex-PTM" and "protein" in p.labels for p in read_store(tmp_path / "s"))
    res = CliRunner().invoke(app, [*args[:-2], "--floor", "0.3"])
    assert res.exit_code == 1 and "other settings (floor)" in res.stderr
