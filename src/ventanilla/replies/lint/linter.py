"""`lint()`: every rule over one reply."""

from __future__ import annotations

from ventanilla.replies.lint.care import check_indifference, check_next_step
from ventanilla.replies.lint.context import LintContext
from ventanilla.replies.lint.finding import Finding
from ventanilla.replies.lint.language import check_language, guess_language
from ventanilla.replies.lint.length import check_length
from ventanilla.replies.lint.personal_data import check_personal_data
from ventanilla.replies.lint.phrase_rules import (
    check_blaming,
    check_impossible_promise,
    check_justifying,
    check_rude_words,
)
from ventanilla.replies.lint.questions import check_questions
from ventanilla.replies.lint.reply_text import ReplyText
from ventanilla.replies.lint.rudeness_model import check_rude_model
from ventanilla.replies.lint.shouting import check_shouting

# Phrase rules read at most this much; longer texts are still checked for length and data.
MAX_PHRASE_CHARS = 20_000


def lint(
    text: str,
    *,
    customer_lang: str,
    public: bool,
    network: str | None = None,
    first_reply: bool = True,
    is_complaint: bool = True,
) -> list[Finding]:
    """Check a reply against every tone rule; findings are sorted by position.

    `customer_lang` is the language the customer wrote in ("es" or "en"); `public` says whether
    everyone can read the reply. Findings of severity medium or high mean "fix before sending";
    low ones are hints.
    """
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    customer_lang = customer_lang.strip().lower().replace("_", "-").split("-")[0]  # "es-ES" -> "es"
    whole = ReplyText(text)
    if not text.strip():
        return []
    guess = guess_language(whole.folded)
    reply_lang = guess.lang or (customer_lang if customer_lang in ("es", "en") else "en")
    context = LintContext(
        customer_lang=customer_lang,
        public=public,
        network=network,
        first_reply=first_reply,
        is_complaint=is_complaint,
        reply_lang=reply_lang,
        phrase_langs=(guess.lang,) if guess.lang and guess.confidence >= 0.8 else ("es", "en"),
    )
    reply = whole if len(text) <= MAX_PHRASE_CHARS else ReplyText(text[:MAX_PHRASE_CHARS])
    findings: list[Finding] = []
    findings += check_rude_words(reply, context)
    if not any(f.rule == "rudeness" for f in findings):
        findings += check_rude_model(reply, context)
    findings += check_blaming(reply, context)
    findings += check_justifying(reply, context)
    findings += check_impossible_promise(reply, context)
    findings += check_questions(reply, context)
    findings += check_indifference(reply, context)
    findings += check_next_step(reply, context)
    findings += check_personal_data(whole, context)
    findings += check_language(whole, context, guess)
    findings += check_length(whole, context)
    findings += check_shouting(reply, context)
    return sorted(findings, key=lambda f: (f.start, f.end, f.rule))
