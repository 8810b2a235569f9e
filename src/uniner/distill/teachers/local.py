"""Teacher that runs a causal LM from a local folder with transformers, so distillation works
offline (quality depends on the model; the path is what matters for a 135M model).

Greedy decoding (the paper's temperature 0) through the model's chat template. Generation is
CPU/GPU bound, so requests run one at a time in a worker thread (the runner's concurrency then
only overlaps bookkeeping); token counts come from the tokenizer, so the report's tokens in/out
are real.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from uniner.distill.teachers.base import Completion, FatalTeacherError


class LocalTeacher:
    name = "local-transformers"

    def __init__(
        self,
        model: str,
        *,
        max_new_tokens: int = 256,
        device: str | None = None,
        dtype: str = "float32",
    ) -> None:
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.device = device
        self.dtype = dtype
        self._lm: Any = None
        self._tok: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalTeacher(model={self.model!r})"

    @property
    def params(self) -> dict[str, Any]:
        return {"max_new_tokens": self.max_new_tokens, "do_sample": False}

    def _load(self) -> None:
        if self._lm is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from uniner.backbones import resolve_backbone

        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            path = resolve_backbone(self.model)
            self._tok = AutoTokenizer.from_pretrained(path)
            self._lm = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, self.dtype))
        except (OSError, ValueError, KeyError) as exc:
            raise FatalTeacherError(f"cannot load local teacher {self.model!r}: {exc}") from exc
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._lm.to(device).eval()
        if not getattr(self._tok, "chat_template", None):
            raise FatalTeacherError(f"local teacher {self.model!r} has no chat template")

    async def check(self) -> None:
        await asyncio.to_thread(self._load)

    def _generate(self, messages: list[dict[str, str]]) -> Completion:
        import torch

        with self._lock:
            self._load()
            t0 = time.monotonic()
            prompt = self._tok.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            enc = self._tok(prompt, return_tensors="pt", add_special_tokens=False)
            enc = {k: v.to(self._lm.device) for k, v in enc.items()}
            with torch.inference_mode():
                out = self._lm.generate(
                    **enc,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    pad_token_id=self._tok.pad_token_id or self._tok.eos_token_id,
                )
            new = out[0, enc["input_ids"].shape[1] :]
            text = self._tok.decode(new, skip_special_tokens=True)
            n_new = int(new.shape[0])
            eos = self._tok.eos_token_id
            finished = n_new and int(new[-1]) == eos
            return Completion(
                text=text,
                prompt_tokens=int(enc["input_ids"].shape[1]),
                completion_tokens=n_new,
                finish_reason="stop" if finished or n_new < self.max_new_tokens else "length",
                latency=time.monotonic() - t0,
            )

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        return await asyncio.to_thread(self._generate, messages)

    async def aclose(self) -> None:
        return None
