"""Integrations with other NLP toolkits: a spaCy pipeline component (``nlp.add_pipe("uniner")``)."""
