"""Absence rules: indifference (no thanks, apology or empathy) and no_next_step (no step or time)."""

from __future__ import annotations

import re

from ventanilla.replies.lint import phrases
from ventanilla.replies.lint.advice import advice
from ventanilla.replies.lint.context import LintContext
from ventanilla.replies.lint.finding import Finding, Severity
from ventanilla.replies.lint.phrase_set import PhraseSet
from ventanilla.replies.lint.reply_text import ReplyText

_VAGUE_TIME = re.compile(
    r"\b(?:lo antes posible|en breve|pronto|cuanto antes|lo mas pronto|mas adelante|cuando "
    r"sepamos|as soon as (?:possible|we can)|asap|shortly|soon|in due course|when we know more|"
    r"as quickly as)\b"
)


def _spans(
    sets: dict[str, PhraseSet], reply: ReplyText, context: LintContext
) -> list[tuple[int, int]]:
    return [
        span for lang in context.phrase_langs for span in sets[lang].spans(reply.folded, reply.heads)
    ]


def _found(sets: dict[str, PhraseSet], reply: ReplyText, context: LintContext) -> bool:
    return any(sets[lang].search(reply.folded, reply.heads) for lang in context.phrase_langs)


def check_indifference(reply: ReplyText, context: LintContext) -> list[Finding]:
    """A complaint reply needs thanks, an apology or empathy that is not a stock phrase."""
    if not context.is_complaint:
        return []
    canned = _spans(phrases.CANNED, reply, context)
    care = [
        span
        for span in _spans(phrases.CARE, reply, context)
        if not any(start <= span[0] < end for start, end in canned)
    ]
    if care:
        return []
    severity: Severity = "medium" if context.first_reply else "low"
    if canned:
        message, suggestion = advice("indifference", context.reply_lang, "canned")
        start, end = min(canned)
        return [Finding("indifference", severity, start, end, suggestion, message)]
    message, suggestion = advice("indifference", context.reply_lang)
    return [Finding("indifference", severity, 0, len(reply.original), suggestion, message)]


def check_next_step(reply: ReplyText, context: LintContext) -> list[Finding]:
    """A complaint reply says what happens next and when (a concrete time, not "soon")."""
    if not context.is_complaint:
        return []
    folded = reply.folded
    has_action = _found(phrases.ACTION, reply, context)
    has_time = _found(phrases.TIME, reply, context)
    if has_action and has_time:
        return []
    if has_action:
        vague = _VAGUE_TIME.search(folded)
        message, suggestion = advice("no_next_step", context.reply_lang, "time")
        start, end = (vague.start(), vague.end()) if vague else (0, len(reply.original))
        return [Finding("no_next_step", "medium", start, end, suggestion, message)]
    message, suggestion = advice("no_next_step", context.reply_lang, "step")
    return [Finding("no_next_step", "medium", 0, len(reply.original), suggestion, message)]
