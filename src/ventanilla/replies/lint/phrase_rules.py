"""Rules found by their wording: rudeness (word lists), blaming, justifying, impossible promises."""

from __future__ import annotations

from ventanilla.replies.lint import phrases
from ventanilla.replies.lint.advice import advice
from ventanilla.replies.lint.context import LintContext
from ventanilla.replies.lint.finding import Finding, Severity
from ventanilla.replies.lint.phrase_set import PhraseSet
from ventanilla.replies.lint.reply_text import ReplyText


def _matches(
    sets: dict[str, PhraseSet], reply: ReplyText, context: LintContext
) -> list[tuple[int, int]]:
    folded = reply.folded
    spans: set[tuple[int, int]] = set()
    for lang in context.phrase_langs:
        for start, end in sets[lang].spans(folded, reply.heads):
            # Patterns may stop inside a word ("quejar" in "quejarse"): show the whole word.
            while end < len(folded) and folded[end].isalnum():
                end += 1
            while end > start and folded[end - 1] in " ,;:":
                end -= 1
            spans.add((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):  # one finding per stretch of text, not per pattern
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _findings(
    rule: str,
    severity: Severity,
    spans: list[tuple[int, int]],
    context: LintContext,
    variant: str = "",
) -> list[Finding]:
    message, suggestion = advice(rule, context.reply_lang, variant)
    return [Finding(rule, severity, start, end, suggestion, message) for start, end in spans]


def check_rude_words(reply: ReplyText, context: LintContext) -> list[Finding]:
    """rudeness from the word lists: insults, dismissal, sarcasm, condescending set phrases."""
    return _findings("rudeness", "high", _matches(phrases.RUDENESS, reply, context), context)


def check_blaming(reply: ReplyText, context: LintContext) -> list[Finding]:
    """blaming: the reply puts the fault on the customer or denies the company's part."""
    return _findings("blaming", "high", _matches(phrases.BLAMING, reply, context), context)


def check_justifying(reply: ReplyText, context: LintContext) -> list[Finding]:
    """justifying: excuses in a first reply (a hint only in follow-ups, where context can help)."""
    if not context.is_complaint:
        return []
    spans = _matches(phrases.JUSTIFYING, reply, context)
    if context.first_reply:
        return _findings("justifying", "medium", spans, context)
    return _findings("justifying", "low", spans, context, "followup")


def check_impossible_promise(reply: ReplyText, context: LintContext) -> list[Finding]:
    """impossible_promise: "never again", 100 % guarantees, perfection from now on."""
    spans = _matches(phrases.IMPOSSIBLE_PROMISE, reply, context)
    return _findings("impossible_promise", "medium", spans, context)
