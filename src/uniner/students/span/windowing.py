"""Overlapping windows over long texts, and mapping window results back to the document.

The encoder reads at most ``max_length`` tokens, including the label prefix, so a long text is
read in windows of whole words. Windows overlap so that a mention cut by one window's edge is
whole in the next; duplicate predictions from the overlap are merged keeping the highest score.
Nothing is silently truncated: callers record the windows they used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from uniner.students.span.decoding import Span, merge_duplicates
from uniner.students.span.packing import pack_words


@dataclass(frozen=True, slots=True)
class Window:
    """Words ``word_start .. word_end`` (exclusive) of a document, at characters
    ``char_start .. char_end`` (exclusive)."""

    index: int
    word_start: int
    word_end: int
    char_start: int
    char_end: int

    def __post_init__(self) -> None:
        for name in ("index", "word_start", "word_end", "char_start", "char_end"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"Window.{name} must be int, got {value!r}")
        if self.index < 0:
            raise ValueError(f"Window.index must be >= 0, got {self.index}")
        if not 0 <= self.word_start < self.word_end:
            raise ValueError(
                f"need 0 <= word_start < word_end, got {self.word_start}, {self.word_end}"
            )
        if not 0 <= self.char_start < self.char_end:
            raise ValueError(
                f"need 0 <= char_start < char_end, got {self.char_start}, {self.char_end}"
            )

    @property
    def num_words(self) -> int:
        return self.word_end - self.word_start

    def to_document(self, span: Span) -> Span:
        """A span in window word coordinates, in document word coordinates."""
        if not 0 <= span.start < span.end <= self.num_words:
            raise ValueError(
                f"span {span} lies outside window {self.index} ({self.num_words} words)"
            )
        return span._replace(start=span.start + self.word_start, end=span.end + self.word_start)


def plan_windows(
    word_offsets: Sequence[tuple[int, int]],
    token_counts: Sequence[int],
    max_words: int,
    max_tokens: int,
    overlap: int,
) -> list[Window]:
    """Cover all words with windows of at most ``max_words`` words and ``max_tokens`` tokens.

    Consecutive windows share ``overlap`` words (fewer when a token budget forces a short window;
    every window advances by at least one word). One window when everything fits. The packing
    is :func:`~uniner.students.span.packing.pack_words`, the one training pieces use.
    """
    n = len(word_offsets)
    if len(token_counts) != n:
        raise ValueError(f"{n} words but {len(token_counts)} token counts")
    if max_words < 1 or max_tokens < 1:
        raise ValueError(f"max_words and max_tokens must be >= 1, got {max_words}, {max_tokens}")
    if not 0 <= overlap < max_words:
        raise ValueError(f"overlap must be in [0, max_words), got {overlap} (max {max_words})")
    if any(c > max_tokens for c in token_counts):
        raise ValueError(f"a word has more than max_tokens={max_tokens} tokens")
    runs = pack_words(token_counts, max_words, max_tokens, overlap=overlap)
    return [
        Window(i, start, end, word_offsets[start][0], word_offsets[end - 1][1])
        for i, (start, end) in enumerate(runs)
    ]


def merge_windows(results: Iterable[tuple[Window, Iterable[Span]]]) -> list[Span]:
    """Spans of each window mapped to the document; duplicates keep their highest score."""
    return merge_duplicates(w.to_document(sp) for w, spans in results for sp in spans)
