"""A reply prepared once for every rule: a folded copy with the same offsets, and its sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ventanilla.replies.lint.phrase_set import word_heads

# Lower-case, accent-free, straight quotes; every entry maps one character to one character so
# that a match in the folded text has the same offsets in the original.
_FOLD = str.maketrans(
    {
        "á": "a", "é": "e", "í": "i", "ó": "o", "ú": "u", "ü": "u", "à": "a", "è": "e",
        "ì": "i", "ò": "o", "ù": "u", "â": "a", "ê": "e", "î": "i", "ô": "o", "û": "u",
        "ç": "c", "’": "'", "‘": "'", "´": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"',
        "\u00a0": " ", "\u202f": " ",
    }
)

_SENTENCE = re.compile(r"[^.!?¡¿\n]*(?:[.!?]+|\n|$)|[¡¿][^.!?\n]*[.!?]*")


def fold(text: str) -> str:
    """Lower-case and strip accents without changing the length of `text`."""
    lowered = text.lower()
    if len(lowered) != len(text):
        # A few characters (e.g. "İ") grow when lowered; keep those as they are.
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(_FOLD)


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range of the reply."""

    start: int
    end: int


@dataclass(slots=True)
class ReplyText:
    """The reply as every rule reads it."""

    original: str
    folded: str = ""
    sentences: list[Span] = field(default_factory=list)
    heads: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.folded = fold(self.original)
        self.sentences = _sentences(self.original)
        self.heads = word_heads(self.folded)

    def sentence_at(self, position: int) -> Span:
        """The sentence that contains `position` (the whole text when none does)."""
        for span in self.sentences:
            if span.start <= position < span.end:
                return span
        return Span(0, len(self.original))


# Lookbehinds keep these linear on pathological input (one attempt per run of characters).
_URL_OR_EMAIL = re.compile(
    r"(?<!\S)(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)


def _sentences(text: str) -> list[Span]:
    # Dots and question marks inside links are not sentence ends.
    masked = _URL_OR_EMAIL.sub(lambda m: "x" * len(m.group()), text) if "." in text else text
    spans: list[Span] = []
    for match in _SENTENCE.finditer(masked):
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append(Span(start, end))
    return spans
