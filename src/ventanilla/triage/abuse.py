"""A small Spanish insult lexicon that backs up the offensive head.

The offensive head learns English abuse from ``offensive-en`` but only has our 65
Spanish examples, which is too few to generalise (5-fold CV recall on them is low,
see docs/triage.md). A post containing one of these words is marked offensive with
confidence at least ``LEXICON_CONFIDENCE``; the word becomes the evidence.
Only clear insults and profanity are listed: angry but clean words such as
"vergüenza", "desastre" or "estafa" are not.
"""

from __future__ import annotations

LEXICON_CONFIDENCE = 0.85

SPANISH_INSULTS = frozenset(
    [
        "gilipollas", "imbécil", "imbéciles", "imbecil", "imbeciles", "idiota", "idiotas",
        "subnormal", "subnormales", "cabrón", "cabron", "cabrones", "cabrona", "cabronas",
        "puta", "putas", "puto", "putos", "mierda", "mierdas", "capullo", "capullos",
        "mongolo", "mongolos", "mongola", "retrasado", "retrasados", "retrasada", "escoria",
        "gentuza", "zorra", "zorras", "inútil", "inútiles", "inutil", "inutiles", "malnacidos",
        "malnacido", "cretino", "cretinos", "tarado", "tarados", "imbécil", "pendejo",
        "pendejos", "pendeja", "huevón", "huevones", "boludo", "boludos", "pelotudo",
        "pelotudos", "chupópteros", "sanguijuelas", "ratas", "hdp", "joder", "jodan",
        "jodidos", "jodido", "cago", "mamones", "mamón", "payasos", "payaso",
    ]
)


def is_insult(word: str) -> bool:
    """Whether a lower-cased word is in the Spanish insult lexicon."""
    return word in SPANISH_INSULTS
