"""Inference: the extractor contract every model and baseline implements.

:mod:`.protocol` (the ``extract_batch`` keywords), :mod:`.decoding` (the frozen decoding
settings) and :mod:`.deadline` (a deadline checked inside the work) import nothing above
``uniner.data``, so students and baselines use them without depending on the layers above.
"""

from uniner.inference.deadline import Deadline, DeadlineExceeded
from uniner.inference.decoding import DecodingConfig, DecodingError
from uniner.inference.protocol import Extractor

__all__ = ["Deadline", "DeadlineExceeded", "DecodingConfig", "DecodingError", "Extractor"]
