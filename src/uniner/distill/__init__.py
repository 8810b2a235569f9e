"""Targeted distillation: sample passages from a raw corpus, have a teacher LLM annotate every
entity with a free-form type, parse and filter its answers, and keep every request and answer in a
resumable store. :mod:`uniner.instruct` turns the result into conversation-style instruction data.
"""
