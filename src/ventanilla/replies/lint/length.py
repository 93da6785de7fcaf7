"""too_long: the reply does not fit the network's limit."""

from __future__ import annotations

from ventanilla.replies.lint.advice import advice
from ventanilla.replies.lint.context import LintContext
from ventanilla.replies.lint.finding import Finding
from ventanilla.replies.lint.reply_text import ReplyText
from ventanilla.replies.networks import network_limit, plain_count_is_exact, weighted_offsets


def check_length(reply: ReplyText, context: LintContext) -> list[Finding]:
    """Flag the part of the reply past the network's limit (counting as the network does)."""
    limit = network_limit(context.network, context.public)
    if limit is None or len(reply.original) <= limit.max_chars // 2:
        return []
    text = reply.original
    if plain_count_is_exact(text, limit.counting):
        length = len(text)
        cut = limit.max_chars
    else:
        offsets = weighted_offsets(text, limit.counting)
        length = offsets[-1] if offsets else 0
        cut = next((i for i, total in enumerate(offsets) if total > limit.max_chars), len(text))
    if length <= limit.max_chars:
        return []
    message, suggestion = advice(
        "too_long", context.reply_lang, network=limit.network, length=length, limit=limit.max_chars
    )
    return [Finding("too_long", "high", cut, len(text), suggestion, message)]
