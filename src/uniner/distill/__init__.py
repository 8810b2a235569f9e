"""Targeted distillation: sample passages from a raw corpus, have a teacher LLM annotate every
entity with a free-form type, parse and filter its answers, and keep every request and answer in a
resumable store. :mod:`uniner.instruct` turns the result into conversation-style instruction data.
"""

# what the ``distill`` extra of pyproject.toml installs: the teacher client (httpx, tenacity's
# retries, aiolimiter's rate limits) and the corpus tools (datasketch's MinHash-LSH, pysbd's
# sentence splitter); ``uniner distill`` checks them before it starts
EXTRA_MODULES = ("httpx", "tenacity", "aiolimiter", "datasketch", "pysbd")
