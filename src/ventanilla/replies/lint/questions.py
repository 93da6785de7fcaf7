"""interrogation: more than two questions, or a chain of closed yes/no questions."""

from __future__ import annotations

import re

from ventanilla.replies.lint.advice import advice
from ventanilla.replies.lint.context import LintContext
from ventanilla.replies.lint.finding import Finding
from ventanilla.replies.lint.reply_text import ReplyText, Span

MAX_QUESTIONS = 2

_OPEN_ES = re.compile(
    r"\b(?:que|cual|cuales|cuando|donde|adonde|como|quien|quienes|cuanto|cuanta|cuantos|cuantas|"
    r"por que)\b"
)
_REQUEST_ES = re.compile(
    r"^(?:y |entonces |oye,? )?(?:nos |me )?(?:puede|puedes|podria|podrias|podrian|le importa|"
    r"te importa|quieres|quiere|(?:nos|me) (?:envias|envia|mandas|manda|escribes|escribe|cuentas|"
    r"cuenta|dices|dice|indicas|indica|pasas|pasa|confirmas|confirma|facilitas|facilita|dejas|"
    r"deja|ayudas|ayuda))\b"
)
_CLOSED_EN = re.compile(
    r"^(?:do|does|did|is|are|was|were|have|has|had|can|could|will|would|should|shall|may|might|"
    r"am|isn't|aren't|wasn't|weren't|didn't|don't|doesn't|haven't|hasn't)\b"
)
_REQUEST_EN = re.compile(
    r"^(?:could|can|would|will) you (?:please |kindly )?(?:send|share|tell|let|give|dm|message|"
    r"drop|confirm|provide|email|e-mail|write|reply|contact|describe|explain|check|call|try)\b"
    r"|^would you (?:like|mind|tell)\b|^(?:could|can|would|will) (?:we|i)\b"
)
_LEAD_IN = re.compile(r"^.*[:;]\s*")
_ENGLISH_HINT = re.compile(r"\b(?:you|your|the|we|it|this|they)\b")


def _question_text(reply: ReplyText, span: Span) -> str:
    text = reply.folded[span.start : span.end].strip(" ¿¡\"'")
    return _LEAD_IN.sub("", text).strip(" ¿¡\"'")


def _is_closed(question: str) -> bool:
    if _CLOSED_EN.match(question):
        return not _REQUEST_EN.match(question)
    if _ENGLISH_HINT.search(question) or question.startswith(("what", "when", "where", "how",
                                                               "which", "who", "why")):
        return False
    return not _OPEN_ES.search(question) and not _REQUEST_ES.match(question)


def check_questions(reply: ReplyText, context: LintContext) -> list[Finding]:
    """Count questions; flag > 2 questions or two or more closed ones in a row."""
    questions = [span for span in reply.sentences if reply.original[span.end - 1] == "?"]
    if len(questions) < 2:
        return []
    first, last = questions[0].start, questions[-1].end
    if len(questions) > MAX_QUESTIONS:
        message, suggestion = advice("interrogation", context.reply_lang, "many")
        return [Finding("interrogation", "medium", first, last, suggestion, message)]
    chain = 0
    best = 0
    for span in questions:
        chain = chain + 1 if _is_closed(_question_text(reply, span)) else 0
        best = max(best, chain)
    if best >= 2:
        message, suggestion = advice("interrogation", context.reply_lang, "closed")
        return [Finding("interrogation", "medium", first, last, suggestion, message)]
    return []
