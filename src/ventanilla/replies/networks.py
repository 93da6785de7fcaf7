"""Length limits of the networks we reply on, and how each one counts characters."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_URL = re.compile(r"https?://\S+", re.IGNORECASE)

# X/Twitter counts these code-point ranges as one unit and everything else (CJK, emoji) as two.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_URL_WEIGHT = 23
_MASTODON_URL_WEIGHT = 23


@dataclass(frozen=True, slots=True)
class NetworkLimit:
    """How long one public reply may be on a network, and how that network counts."""

    network: str
    max_chars: int
    counting: str  # "x" (weighted, URLs 23), "mastodon" (URLs 23), "graphemes", "chars"


NETWORK_LIMITS: dict[str, NetworkLimit] = {
    limit.network: limit
    for limit in (
        NetworkLimit("x", 280, "x"),
        NetworkLimit("bluesky", 300, "graphemes"),
        NetworkLimit("mastodon", 500, "mastodon"),
        NetworkLimit("threads", 500, "chars"),
        NetworkLimit("instagram", 2200, "chars"),
        NetworkLimit("tiktok", 2200, "chars"),
        NetworkLimit("linkedin", 3000, "chars"),
        NetworkLimit("messenger", 2000, "chars"),
        NetworkLimit("whatsapp", 4096, "chars"),
        NetworkLimit("facebook", 8000, "chars"),
        NetworkLimit("youtube", 10000, "chars"),
        NetworkLimit("reddit", 10000, "chars"),
    )
}

# Private messages on the same networks have limits of their own.
PRIVATE_LIMITS: dict[str, NetworkLimit] = {
    limit.network: limit
    for limit in (
        NetworkLimit("x", 10000, "x"),
        NetworkLimit("bluesky", 1000, "graphemes"),
        NetworkLimit("mastodon", 500, "mastodon"),
        NetworkLimit("instagram", 1000, "chars"),
        NetworkLimit("facebook", 2000, "chars"),
        NetworkLimit("messenger", 2000, "chars"),
        NetworkLimit("whatsapp", 4096, "chars"),
        NetworkLimit("linkedin", 8000, "chars"),
    )
}

_ALIASES = {"twitter": "x", "x.com": "x", "ig": "instagram", "fb": "facebook", "yt": "youtube"}


def canonical_network(network: str | None) -> str | None:
    """The network's canonical name ("twitter" -> "x"), lower-cased; None stays None."""
    if network is None:
        return None
    name = network.strip().lower()
    return _ALIASES.get(name, name) or None


def network_limit(network: str | None, public: bool = True) -> NetworkLimit | None:
    """The length limit for a public post (or a private message) on a network; None: no limit."""
    name = canonical_network(network)
    if not name:
        return None
    return (NETWORK_LIMITS if public else PRIVATE_LIMITS).get(name)


def _char_weight(char: str, counting: str) -> int:
    if counting == "x":
        code = ord(char)
        return 1 if any(lo <= code <= hi for lo, hi in _X_LIGHT_RANGES) else 2
    if counting == "graphemes" and unicodedata.combining(char):
        return 0
    return 1


_HEAVY_FOR_X = re.compile(r"[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")


def plain_count_is_exact(text: str, counting: str) -> bool:
    """True when the network's count equals len(text) (no URLs, wide or combining chars)."""
    if counting == "chars":
        return True
    if counting in ("x", "mastodon") and "://" in text:
        return False
    if counting == "x":
        return _HEAVY_FOR_X.search(text) is None
    if counting == "graphemes":
        return text.isascii()
    return True


def weighted_offsets(text: str, counting: str) -> list[int]:
    """Cumulative length after each character, as the network counts it."""
    url_spans: dict[int, int] = {}
    if counting in ("x", "mastodon"):
        for match in _URL.finditer(text):
            url_spans[match.start()] = match.end()
    offsets: list[int] = []
    total = 0
    index = 0
    while index < len(text):
        end = url_spans.get(index)
        if end is not None:
            weight = _X_URL_WEIGHT if counting == "x" else _MASTODON_URL_WEIGHT
            for position in range(index, end):
                offsets.append(total + (weight if position == end - 1 else 0))
            total += weight
            index = end
            continue
        total += _char_weight(text[index], counting)
        offsets.append(total)
        index += 1
    return offsets


def measured_length(text: str, network: str | None, public: bool = True) -> int:
    """The length of `text` as `network` counts it (plain characters when unknown)."""
    limit = network_limit(network, public)
    if limit is None or plain_count_is_exact(text, limit.counting):
        return len(text)
    offsets = weighted_offsets(text, limit.counting)
    return offsets[-1] if offsets else 0


def fits(text: str, network: str | None, public: bool = True) -> bool:
    """True when `text` is within the network's limit (always true without a limit)."""
    limit = network_limit(network, public)
    return limit is None or measured_length(text, network, public) <= limit.max_chars
