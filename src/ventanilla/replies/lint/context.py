"""What the linter knows about the conversation a reply belongs to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LintContext:
    """The reply's situation; `reply_lang` is the language the reply is written in.

    `phrase_langs` are the languages whose phrase lists apply (both when unsure).
    """

    customer_lang: str
    public: bool
    network: str | None
    first_reply: bool
    is_complaint: bool
    reply_lang: str
    phrase_langs: tuple[str, ...] = ("es", "en")
