"""Inference: the extractor protocol every model and baseline implements."""

from uniner.inference.protocol import Extractor

__all__ = ["Extractor"]
