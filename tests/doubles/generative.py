"""A tiny random causal LM and byte-level BPE tokenizer: tests train and decode in seconds.

Built locally from ``tokenizers`` and a random ``LlamaForCausalLM`` config, so no download is
needed. The tokenizer is byte-level (any text encodes) and fast (offsets, as the loss mask
needs); its EOS is ``</s>`` by default (the official end-of-turn) or any other string.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "A virtual assistant answers questions from a user based on the provided text.",
    "A virtual assistant answers questions from a user based on the provided paragraph.",
    "USER: Text: ASSISTANT: I've read this text. USER: What describes person in the text?",
    'ASSISTANT: ["Alan Turing", "Ada Lovelace"] [] ["London"] ["Paris", "New York"]',
    "Alan Turing was born in London and worked in Manchester with Ada Lovelace.",
    "Marie Curie discovered polonium at the University of Paris in 1898.",
    "city country organization location date algorithm field metric programming language",
    "Dataset: conll2003 the a of and to in is was for on with as by at from it an",
]


def make_tiny_tokenizer(path: str | Path | None = None, eos: str = "</s>", vocab_size: int = 400):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on :data:`CORPUS` (adds BOS)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", eos, "<pad>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token=eos, pad_token="<pad>", unk_token="<unk>"
    )
    if path is not None:
        fast.save_pretrained(str(path))
    return fast


def make_tiny_causal_lm(
    path: str | Path,
    *,
    eos: str = "</s>",
    hidden: int = 32,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    max_positions: int = 512,
    seed: int = 0,
) -> Path:
    """Write a random-init ``LlamaForCausalLM`` and its tokenizer to ``path``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tok = make_tiny_tokenizer(out, eos=eos)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(cfg).save_pretrained(str(out))
    return out
