"""Urgency cues (safety, legal, media, churn) found by Spanish and English lexicons, with spans."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence

from ventanilla.triage.result import UrgencyCue

URGENCY_LEXICON: dict[str, tuple[str, ...]] = {
    "safety": (
        r"fuego", r"incendio", r"humo", r"quemad[oa]s?", r"herid[oa]s?", r"lesionad[oa]s?",
        r"explot[óoa]\w*", r"chispas?", r"descarga eléctrica", r"intoxicad[oa]s?",
        r"intoxicación", r"peligro(?:so|sa)?", r"ambulancia", r"urgencias", r"emergencia",
        r"casi nos matamos", r"accidente", r"fuga de gas", r"olor a quemado",
        r"fire", r"smoke", r"burn(?:ed|t|ing)?", r"injur(?:ed|y|ies)", r"explod(?:ed|ing)",
        r"sparks?", r"electric shock", r"food poisoning", r"poisoned", r"dangerous",
        r"unsafe", r"ambulance", r"emergency", r"hospital", r"gas leak", r"caught fire",
    ),
    "legal": (
        r"abogad[oa]s?", r"denuncia(?:r|ré|remos|do)?", r"demanda(?:r|ré|remos)?",
        r"juzgado", r"tribunal(?:es)?", r"OCU", r"FACUA", r"consumo", r"hoja de reclamaciones",
        r"reclamación formal", r"acciones legales", r"vía judicial", r"AESA",
        r"lawyer", r"attorney", r"sue", r"suing", r"lawsuit", r"legal action", r"court",
        r"small claims", r"consumer (?:authority|protection|rights)", r"ombudsman", r"BBB",
        r"better business bureau", r"trading standards", r"FTC", r"DOT complaint",
    ),
    "media": (
        r"periodistas?", r"prensa", r"medios", r"televisión", r"noticias", r"viral",
        r"lo voy a (?:publicar|difundir)", r"compartid[oa] \d+ veces", r"reportaje",
        r"journalists?", r"reporters?", r"press", r"the media", r"news", r"going viral",
        r"blog(?:ger)?", r"my followers", r"retweet(?: this| if)", r"tv station",
    ),
    "churn": (
        r"me doy de baja", r"me di de baja", r"darme de baja", r"dar(?:nos)? de baja",
        r"me cambio (?:a|de compañía)", r"me voy (?:a|con) la competencia", r"nunca más",
        r"nunca jamás", r"última vez que (?:vuelo|compro|uso)", r"no vuelvo", r"cancelo mi",
        r"cancelar mi (?:cuenta|contrato|suscripción)", r"portabilidad", r"adiós para siempre",
        r"never again", r"never (?:fly|flying|buy|buying|use|using) \w+ again",
        r"switch(?:ing)? to", r"cancel(?:ling|ing)? my (?:account|subscription|contract|card)",
        r"close my account", r"last time i (?:fly|flew|buy|bought|use)", r"lost a customer",
        r"done with (?:you|this)", r"taking my business elsewhere",
    ),
}

_ACRONYMS: dict[str, str] = {"OCU": "legal", "FACUA": "legal", "AESA": "legal",
                             "BBB": "legal", "FTC": "legal"}
_ACRONYM_RE = re.compile(r"(?<!\w)(?:" + "|".join(_ACRONYMS) + r")(?!\w)")
_KINDS = tuple(URGENCY_LEXICON)
_CUE_RE = re.compile(
    r"(?<!\w)(?:"
    + "|".join(
        f"(?P<{kind}>" + "|".join(p for p in pats if p not in _ACRONYMS) + ")"
        for kind, pats in URGENCY_LEXICON.items()
    )
    + r")(?!\w)",
    re.IGNORECASE,
)


def _stem(pattern: str) -> str:
    """The literal lower-case prefix of a pattern, used as a cheap substring pre-filter."""
    prefix = re.match(r"[^\\\[\](){}?*+|.^$]*", pattern)
    stem = prefix.group(0) if prefix else ""
    if stem and pattern[len(stem) : len(stem) + 1] in ("?", "*", "{"):
        stem = stem[:-1]
    return stem.lower()


_STEMS: tuple[str, ...] = tuple(
    sorted({_stem(p) for pats in URGENCY_LEXICON.values() for p in pats if p not in _ACRONYMS})
)


def find_urgency(text: str) -> list[UrgencyCue]:
    """All urgency cues in ``text`` with their character spans, ordered by position."""
    low = text.lower()
    if not any(stem in low for stem in _STEMS) and not any(a in text for a in _ACRONYMS):
        return []
    return _cues(text)


def _cues(text: str) -> list[UrgencyCue]:
    """The cues of ``text``, without the pre-filter."""
    cues = [
        UrgencyCue(kind=str(m.lastgroup), start=m.start(), end=m.end(), text=m.group(0))
        for m in _CUE_RE.finditer(text)
    ]
    if any(acronym in text for acronym in _ACRONYMS):
        cues.extend(
            UrgencyCue(kind=_ACRONYMS[m.group(0)], start=m.start(), end=m.end(), text=m.group(0))
            for m in _ACRONYM_RE.finditer(text)
        )
        cues.sort(key=lambda c: (c.start, c.kind))
    return cues


# the pre-filter's needles: a stem containing another stem adds nothing to ``any(stem in low)``
_NEEDLES: tuple[str, ...] = tuple(s for s in _STEMS if not any(o != s and o in s for o in _STEMS))
_SEP = "\x00"  # in no stem nor acronym, so no pre-filter hit spans two texts


def _hit_texts(needles: Iterable[str], pieces: list[str]) -> set[int]:
    """Indices of the ``pieces`` that contain any of ``needles`` (none contains _SEP):
    one substring scan of the joined batch per needle, instead of one per needle and text."""
    starts: list[int] = []
    pos = 0
    for piece in pieces:
        starts.append(pos)
        pos += len(piece) + 1
    starts.append(pos)  # sentinel: where a text after the last would start
    joined = _SEP.join(pieces)
    hits: set[int] = set()
    for needle in needles:
        at = joined.find(needle)
        while at != -1:
            i = bisect_right(starts, at) - 1
            hits.add(i)
            at = joined.find(needle, starts[i + 1])
    return hits


def find_urgency_batch(texts: Sequence[str]) -> list[list[UrgencyCue]]:
    """``find_urgency`` of every text (the same cues), with the pre-filter run over the
    whole batch at once: most texts have no cue and cost no per-text work."""
    out: list[list[UrgencyCue]] = [[] for _ in texts]
    if not texts:
        return out
    candidates = _hit_texts(_NEEDLES, [t.lower() for t in texts]) | _hit_texts(_ACRONYMS, list(texts))
    for i in sorted(candidates):
        out[i] = _cues(texts[i])
    return out
