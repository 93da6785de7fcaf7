"""Which of our languages (es, en) a reply is written in, from its most common small words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ventanilla.replies.lint.advice import advice
from ventanilla.replies.lint.context import LintContext
from ventanilla.replies.lint.finding import Finding
from ventanilla.replies.lint.reply_text import ReplyText

SUPPORTED_LANGUAGES = ("es", "en")

# Small words that are frequent in one language and rare in the other (folded: no accents).
_MARKERS: dict[str, frozenset[str]] = {
    "es": frozenset(
        (
            "al", "antes", "como", "con", "contigo", "cuando", "de", "del", "despues", "dias",
            "directo", "disculpa", "disculpas", "donde", "el", "en", "es", "escribenos",
            "esta", "estamos", "gracias", "ha", "hemos", "hola", "horas", "hoy", "la",
            "lamentamos", "las", "le", "les", "lo", "los", "manana", "mas", "mensaje", "muy",
            "nos", "para", "pedido", "perdon", "perdona", "pero", "por", "porque", "privado",
            "que", "respuesta", "saludo", "semana", "sentimos", "sera", "si", "sin", "su",
            "sus", "te", "ti", "tienda", "tienes", "tu", "un", "una", "vamos", "y", "ya",
        )
    ),
    "en": frozenset(
        (
            "an", "and", "answer", "any", "are", "as", "at", "back", "be", "by", "can", "days",
            "for", "from", "get", "have", "hello", "hi", "hours", "in", "is", "it", "know",
            "let", "message", "of", "on", "order", "our", "please", "reply", "sorry", "store",
            "thank", "thanks", "that", "the", "this", "to", "today", "tomorrow", "us", "was",
            "we", "we'll", "we're", "we've", "were", "will", "with", "within", "you", "you'll",
            "you're", "your",
        )
    ),
}
_TOKEN = re.compile(r"[a-zñ']+")
_HANDLE_OR_URL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w.-]+|@\w+|https?://\S+")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The likely language and how sure we are (share of marker words, 0-1)."""

    lang: str | None
    confidence: float
    markers: int


def guess_language(folded: str) -> LanguageGuess:
    """Guess es/en from folded text; `lang` is None when there is too little to go on."""
    text = _HANDLE_OR_URL.sub(" ", folded[:5000])
    tokens = _TOKEN.findall(text)
    counts = {lang: len([t for t in tokens if t in words]) for lang, words in _MARKERS.items()}
    total = sum(counts.values())
    if total < 3:
        return LanguageGuess(None, 0.0, total)
    lang = max(counts, key=lambda key: counts[key])
    return LanguageGuess(lang, counts[lang] / total, total)


def check_language(reply: ReplyText, context: LintContext, guess: LanguageGuess) -> list[Finding]:
    """wrong_language: the reply is clearly in a language other than the customer's."""
    customer = context.customer_lang.lower()
    if customer not in SUPPORTED_LANGUAGES or guess.lang is None or guess.lang == customer:
        return []
    if guess.confidence < 0.75 or guess.markers < 4:
        return []
    message, suggestion = advice("wrong_language", guess.lang, customer=customer)
    return [Finding("wrong_language", "high", 0, len(reply.original), suggestion, message)]
