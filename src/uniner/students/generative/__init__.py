"""The generative student: UniNER's conversation-style instruction tuning and inference.

* :mod:`.template`: the ``ie_as_qa`` conversation, rendered exactly as the official code does;
* :mod:`.data`: conversations -> token ids with the loss on assistant turns only;
* :mod:`.config` / :mod:`.train`: a TOML run config and a transformers ``Trainer`` run (full or
  LoRA fine-tuning, resumable);
* :mod:`.inference`: batched greedy answering with the passage prefix's KV cache reused across
  types, answers aligned to character offsets; :class:`.extractor.GenerativeExtractor` for
  ``uniner bench``; :mod:`.vllm_backend` for GPU scale.
"""
