"""vLLM backend for GPU scale: the same prompts, vLLM's engine (``pip install 'uniner[vllm]'``).

vLLM is imported lazily, only when this engine is built, so the package works without it.
Prompts come from the same :class:`~.template.Template` as the transformers engine (one string
per (passage, type), BOS added by the tokenizer as there), decoding is greedy with at most
``max_new_tokens`` tokens and stops at the end-of-turn. vLLM's automatic prefix caching plays the
role of our explicit prefix reuse: the prompts of one passage share their first blocks.

A LoRA run folder is merged into its base once (``merge_adapter``), because vLLM loads plain
model folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from uniner.students.generative.inference import DecodeStats, GenerativeEngine
from uniner.students.generative.template import Template


def merge_adapter(adapter_dir: str | Path, out_dir: str | Path) -> Path:
    """Write base + LoRA adapter as one full model folder (what vLLM loads)."""
    import json

    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from uniner.students.generative.train import META_FILE, resolve_base

    src = Path(adapter_dir)
    meta = json.loads((src / META_FILE).read_text(encoding="utf-8"))
    model = AutoModelForCausalLM.from_pretrained(resolve_base(meta["base"]))
    model = PeftModel.from_pretrained(model, str(src)).merge_and_unload()
    out = Path(out_dir)
    model.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(src)).save_pretrained(str(out))
    (out / META_FILE).write_text(json.dumps({**meta, "adapter": False}, indent=2), encoding="utf-8")
    return out


class VllmEngine(GenerativeEngine):
    """Answers questions with vLLM; windows and prompts as :class:`GenerativeEngine`."""

    def __init__(
        self,
        model_path: str,
        template: Template,
        *,
        max_new_tokens: int = 256,
        max_context: int | None = None,
        window_overlap_words: int = 16,
        **llm_kwargs: Any,
    ) -> None:
        try:
            from vllm import LLM, SamplingParams  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ImportError(
                "the vLLM backend needs vllm (a CUDA machine): pip install 'uniner[vllm]'"
            ) from exc
        self.llm = LLM(model=model_path, enable_prefix_caching=True, **llm_kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.template = template
        self.max_new_tokens = max_new_tokens
        limit = self.llm.llm_engine.model_config.max_model_len
        self.max_context = min(limit, max_context) if max_context else limit
        self.window_overlap_words = window_overlap_words
        self.prefix_reuse = True
        self.stats = DecodeStats()
        self.params = SamplingParams(
            temperature=0.0,
            max_tokens=max_new_tokens,
            stop=[template.eot],
            skip_special_tokens=True,
        )

    def answer(
        self, texts: Sequence[str], labels: Sequence[str], dataset: str | None = None
    ) -> list[list[str]]:
        if not labels:
            raise ValueError("no entity type given: pass at least one label")
        prompts = [self.template.prompt(t, lab, dataset) for t in texts for lab in labels]
        outs = self.llm.generate(prompts, self.params, use_tqdm=False)
        flat = [o.outputs[0].text.strip() for o in outs]
        n = len(labels)
        self.stats.passages += len(texts)
        self.stats.questions += len(prompts)
        return [flat[i * n : (i + 1) * n] for i in range(len(texts))]
