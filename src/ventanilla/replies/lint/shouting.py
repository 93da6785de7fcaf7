"""shouting: sustained capitals."""

from __future__ import annotations

import re

from ventanilla.replies.lint.advice import advice
from ventanilla.replies.lint.context import LintContext
from ventanilla.replies.lint.finding import Finding
from ventanilla.replies.lint.reply_text import ReplyText

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# Capitalised because they are acronyms, not because anyone is shouting.
ACRONYMS = frozenset(
    (
        "ADSL", "AM", "API", "APP", "ATM", "AVE", "BA", "BBC", "BBVA", "CD", "CEO", "CIF",
        "DM", "DMS", "DNI", "DVD", "EE", "ES", "EU", "FAQ", "GB", "GPS", "HR", "IBAN", "ID",
        "IKEA", "IT", "IVA", "KLM", "MD", "NB", "NFC", "NHS", "NIE", "NIF", "OK", "PDF", "PIN",
        "PM", "PR", "PS", "QR", "RENFE", "RRHH", "RRPP", "SMS", "TAP", "TV", "UE", "UK", "URL",
        "USA", "USB", "UU", "VAT", "WIFI",
    )
)
# A shouted run always has a word of three or more capitals (two-letter runs are acronyms).
_THREE_CAPITALS = re.compile(r"[A-ZÀ-ÖØ-Þ]{3}")
_BREAKERS = re.compile(r"[.!?¡¿;:,\s\"'()\-–—…]*")


def check_shouting(reply: ReplyText, context: LintContext) -> list[Finding]:
    """A run of two or more capitalised words (6+ letters) is shouting; one long word is a hint."""
    text = reply.original
    if _THREE_CAPITALS.search(text) is None:
        return []
    runs: list[tuple[int, int, int, int]] = []  # start, end, words, letters
    current: list[int] | None = None
    last_end = 0
    for match in _WORD.finditer(text):
        word = match.group()
        letters = sum(1 for c in word if c.isalpha())
        loud = letters >= 2 and word.isupper() and word.upper() not in ACRONYMS
        gap_ok = current is not None and _BREAKERS.fullmatch(text[last_end : match.start()])
        if loud:
            if current is not None and gap_ok:
                current[1] = match.end()
                current[2] += 1
                current[3] += letters
            else:
                if current is not None:
                    runs.append((current[0], current[1], current[2], current[3]))
                current = [match.start(), match.end(), 1, letters]
        elif current is not None:
            runs.append((current[0], current[1], current[2], current[3]))
            current = None
        last_end = match.end()
    if current is not None:
        runs.append((current[0], current[1], current[2], current[3]))
    findings: list[Finding] = []
    for start, end, words, letters in runs:
        if words >= 2 and letters >= 6:
            message, suggestion = advice("shouting", context.reply_lang)
            findings.append(Finding("shouting", "medium", start, end, suggestion, message))
        elif letters >= 5:
            message, suggestion = advice("shouting", context.reply_lang, "hint")
            findings.append(Finding("shouting", "low", start, end, suggestion, message))
    return findings
