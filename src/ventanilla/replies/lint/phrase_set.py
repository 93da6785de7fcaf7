"""A list of regex phrases compiled for speed.

Python's `re` finds a literal prefix quickly but not one behind `\\b`; so every top-level branch
is compiled on its own without its leading `\\b`, and the word boundary is checked by hand on
each match. On our replies this is about ten times faster than one big alternation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def top_level_branches(pattern: str) -> list[str]:
    """Split a regex at its top-level `|` (outside groups and character classes)."""
    branches: list[str] = []
    depth = 0
    in_class = False
    escaped = False
    start = 0
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
    branches.append(pattern[start:])
    return [branch for branch in branches if branch]


_META = set("\\.[]()?*+{}|^$")


def _literal_run(text: str) -> str:
    """The literal characters `text` starts with (the last one dropped if it is optional)."""
    end = 0
    while end < len(text) and text[end] not in _META:
        end += 1
    if end < len(text) and text[end] in "?*{":
        end -= 1
    return text[:max(end, 0)]


def required_prefixes(branch: str) -> tuple[str, ...]:
    """Literal strings one of which must occur wherever `branch` matches; () when unknown.

    Understands a leading literal and a leading non-capturing group of literal alternatives,
    which is how our phrase patterns are written; anything else gets no prefilter.
    """
    while branch.startswith(("(?<!", "(?<=")):
        parts = top_level_branches(branch)
        if len(parts) != 1:
            return ()
        close = _group_end(branch)
        if close < 0:
            return ()
        branch = branch[close + 1 :]
    if branch.startswith(r"\b"):
        branch = branch[2:]
    if branch.startswith("(?:"):
        close = _group_end(branch)
        if close < 0 or (close + 1 < len(branch) and branch[close + 1] in "?*{"):
            return ()
        alternatives = top_level_branches(branch[3:close])
        prefixes = tuple(_literal_run(alternative) for alternative in alternatives)
        return prefixes if prefixes and all(len(p) >= 2 for p in prefixes) else ()
    prefix = _literal_run(branch)
    return (prefix,) if len(prefix) >= 2 else ()


def _group_end(pattern: str) -> int:
    depth = 0
    escaped = False
    in_class = False
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


HEAD_SIZES = range(2, 6)
_WORD_TOKEN = re.compile(r"[a-z0-9ñ']+")


def word_heads(folded: str) -> frozenset[str]:
    """The first 2 to 5 characters of every word of a folded text (the prefilter's index)."""
    # Short words also add themselves under longer sizes: harmless for a prefilter.
    return frozenset(
        [word[:size] for word in set(_WORD_TOKEN.findall(folded)) for size in HEAD_SIZES]
    )


def _head(prefix: str) -> str:
    end = 0
    while end < len(prefix) and end < HEAD_SIZES[-1] and (prefix[end].isalnum() or prefix[end] in "'ñ"):
        end += 1
    return prefix[:end]


@dataclass(frozen=True, slots=True)
class _Branch:
    regex: re.Pattern[str]
    word_start: bool
    heads: frozenset[str]  # one of these must start a word of the text; empty: no prefilter


class PhraseSet:
    """Search a folded text for any of a list of phrase patterns."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = list(patterns)
        branches: list[_Branch] = []
        for pattern in patterns:
            for branch in top_level_branches(pattern):
                heads = [_head(prefix) for prefix in required_prefixes(branch)]
                # Only a branch that starts with a literal gains from losing its \b; one that
                # starts with a class ([a-z]{3,}...) keeps it, or it would be tried at every
                # position of a long word (quadratic).
                usable = branch.startswith(r"\b") and bool(heads) and all(len(h) >= 2 for h in heads)
                regex = re.compile(branch[2:] if usable else branch)
                branches.append(_Branch(regex, usable, frozenset(heads if usable else ())))
        self._branches = tuple(branches)
        # Inverted index: word head -> branches that need it; the rest always run.
        self._always = tuple(i for i, item in enumerate(branches) if not item.heads)
        self._by_head: dict[str, list[int]] = {}
        for index, item in enumerate(branches):
            for head in item.heads:
                self._by_head.setdefault(head, []).append(index)
        self._index_heads = frozenset(self._by_head)

    def _candidates(self, heads: frozenset[str]) -> list[_Branch]:
        chosen = set(self._always)
        for head in self._index_heads.intersection(heads):
            chosen.update(self._by_head[head])
        return [self._branches[i] for i in sorted(chosen)]

    def spans(self, text: str, heads: frozenset[str] | None = None) -> list[tuple[int, int]]:
        """Every (start, end) matched, sorted, without duplicates (`heads`: see word_heads)."""
        if heads is None:
            heads = word_heads(text)
        found: set[tuple[int, int]] = set()
        for branch in self._candidates(heads):
            for match in branch.regex.finditer(text):
                start = match.start()
                if branch.word_start and start and _is_word_char(text[start - 1]):
                    continue
                if match.end() > start:
                    found.add((start, match.end()))
        return sorted(found)

    def search(self, text: str, heads: frozenset[str] | None = None) -> bool:
        """True when any phrase occurs in `text` (`heads`: see word_heads)."""
        if heads is None:
            heads = word_heads(text)
        for branch in self._candidates(heads):
            for match in branch.regex.finditer(text):
                start = match.start()
                if not (branch.word_start and start and _is_word_char(text[start - 1])):
                    return True
        return False


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"
