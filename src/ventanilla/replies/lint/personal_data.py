"""personal_data_public: e-mails, phones, ID, bank and card numbers, order refs and addresses.

Personal data belongs in the private channel; a public reply should only say where to continue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ventanilla.replies.lint.advice import advice
from ventanilla.replies.lint.context import LintContext
from ventanilla.replies.lint.finding import Finding
from ventanilla.replies.lint.reply_text import ReplyText, fold

_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"(?<![\w/.,:-])\+?\(?\d[\d \t().-]{6,22}\d(?![\w/-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_DNI = re.compile(r"\b\d{8}[- ]?[A-Za-z]\b")
_NIE = re.compile(r"\b[XYZxyz][- ]?\d{7}[- ]?[A-Za-z]\b")
_UK_NINO = re.compile(r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_REFERENCE = re.compile(
    r"\b(?:pedidos?|n[ºo°.]* de pedido|localizador|reserva|referencia|ref|poliza|factura|contrato|"
    r"expediente|ticket|incidencia|cliente|socio|abonado|pasaporte|matricula|dni|nie|"
    r"orders?|booking|reference|policy|invoice|account|contract|case|membership|passport|"
    r"tracking|customer|national insurance(?: number)?)\b"
    r"(?: (?:n[ºo°.]*|numero|num\.?|number|no\.?|nr\.?|con localizador|con referencia|"
    r"with reference|reference|ref\.?|code|codigo|id))?[ \t:#]*"
    r"(?=[a-z0-9-]*\d)([a-z0-9][a-z0-9-]{4,})\b",
)
_ADDRESS_ES = re.compile(
    r"\b(?:[Cc]alle|C/|[Aa]venida|[Aa]vda\.?|[Aa]v\.|[Pp]laza|[Pp]za\.|[Pp]aseo|[Cc]amino|"
    r"[Cc]arretera|[Rr]onda|[Tt]ravesía|[Gg]lorieta|[Cc]/)\s*"
    r"(?:(?:de|del|de la|de los|de las)\s+)?[A-ZÁÉÍÓÚÑ][\wáéíóúñ'.-]*(?:\s+[\wáéíóúñ'.-]+){0,3}"
    r",?\s+(?:n[ºo°.]*\s*)?\d{1,4}\b"
)
_ADDRESS_EN = re.compile(
    r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|"
    r"Drive|Dr|Close|Way|Place|Pl|Court|Ct|Crescent|Terrace|Boulevard|Blvd|Gardens|Grove|Square|"
    r"Mews|Row|Hill)\b\.?"
)
_POSTCODE_UK = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b")
_TOLL_FREE = ("900", "901", "902", "800", "0800", "0808", "1800", "0300", "0345", "0330")


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digit_kind(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    if 13 <= len(digits) <= 19 and _luhn(digits):
        return "card"
    plus = raw.lstrip().startswith("+")
    if digits.startswith(_TOLL_FREE) and not plus:
        return None
    if plus and 9 <= len(digits) <= 15:
        return "phone"
    if len(digits) == 9 and digits[0] in "6789":
        return "phone"
    if len(digits) in (10, 11) and digits.startswith("0"):
        return "phone"
    if len(digits) == 10 and re.search(r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}", raw):
        return "phone"
    return None


# Word heads (see phrase_set.word_heads) one of which a reference or an address needs.
_REFERENCE_HEADS = frozenset(
    (
        "abona", "accou", "booki", "case", "clien", "contr", "custo", "dni", "exped", "factu",
        "incid", "invoi", "loca", "matri", "membe", "natio", "nie", "order", "pasap", "passp",
        "pedi", "pedid", "polic", "poliz", "ref", "refer", "reser", "socio", "ticke", "track",
    )
)
_ADDRESS_HEADS = frozenset(
    (
        "av", "avda", "ave", "avenu", "blvd", "boule", "c", "calle", "camin", "carre", "close",
        "court", "cresc", "ct", "dr", "drive", "garde", "glori", "grove", "hill", "lane", "ln",
        "mews", "paseo", "pl", "place", "plaza", "pza", "rd", "road", "ronda", "row", "squar",
        "st", "stree", "terra", "trave", "way",
    )
)


def _personal_spans(
    text: str, folded: str, heads: frozenset[str] | None
) -> Iterator[tuple[int, int, str]]:
    if "@" in text:
        for match in _EMAIL.finditer(text):
            yield match.start(), match.end(), "e-mail"
    if _DIGIT.search(text) is None:
        return  # every other kind of personal data we look for contains a digit
    for match in _DIGIT_RUN.finditer(text):
        kind = _digit_kind(match.group())
        if kind:
            yield match.start(), match.end(), kind
    for match in _IBAN.finditer(text):
        yield match.start(), match.end(), "IBAN"
    for pattern, kind in ((_DNI, "DNI"), (_NIE, "NIE"), (_UK_NINO, "ID")):
        for match in pattern.finditer(text):
            yield match.start(), match.end(), kind
    if heads is None or not heads.isdisjoint(_REFERENCE_HEADS):
        for match in _REFERENCE.finditer(folded):
            yield match.start(1), match.end(1), "reference"
    if heads is None or not heads.isdisjoint(_ADDRESS_HEADS):
        for pattern in (_ADDRESS_ES, _ADDRESS_EN):
            for match in pattern.finditer(text):
                yield match.start(), match.end(), "address"
    for match in _POSTCODE_UK.finditer(text):
        yield match.start(), match.end(), "address"


def find_personal_data(
    text: str, folded: str | None = None, heads: frozenset[str] | None = None
) -> list[tuple[int, int, str]]:
    """Every piece of personal data in `text` as (start, end, kind), overlaps merged.

    `folded` and `heads` (from ReplyText) only save work; they are computed when missing.
    """
    spans = sorted(_personal_spans(text, folded if folded is not None else fold(text), heads))
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, kind))
    return merged


def check_personal_data(reply: ReplyText, context: LintContext) -> list[Finding]:
    """Flag personal data in a public reply (private replies may carry it)."""
    if not context.public:
        return []
    findings = []
    for start, end, kind in find_personal_data(reply.original, reply.folded, reply.heads):
        message, suggestion = advice("personal_data_public", context.reply_lang, kind=kind)
        findings.append(Finding("personal_data_public", "high", start, end, suggestion, message))
    return findings
