"""Urgency cues: kinds and spans in Spanish and English."""

from __future__ import annotations

from ventanilla.triage.urgency import find_urgency


def _kinds(text: str) -> dict[str, str]:
    return {c.kind: text[c.start : c.end] for c in find_urgency(text)}


def test_spanish_cues_and_spans() -> None:
    text = "Hay humo en el vagón. Me doy de baja y se lo cuento a mi abogado y a la OCU"
    cues = find_urgency(text)
    for cue in cues:
        assert text[cue.start : cue.end] == cue.text
    found = {(c.kind, c.text) for c in cues}
    assert ("safety", "humo") in found
    assert ("churn", "Me doy de baja") in found
    assert ("legal", "abogado") in found
    assert ("legal", "OCU") in found


def test_english_cues() -> None:
    kinds = _kinds("Smoke in the cabin! A journalist friend will hear about this. Never again.")
    assert kinds["safety"] == "Smoke"
    assert kinds["media"] == "journalist"
    assert kinds["churn"] == "Never again"
    assert _kinds("I am calling my lawyer")["legal"] == "lawyer"


def test_no_false_cues_inside_words() -> None:
    assert find_urgency("Ocultar la documentación no es buena idea") == []
    assert find_urgency("El vuelo llegó puntual, gracias") == []
    assert find_urgency("") == []


def test_cues_are_sorted_by_position() -> None:
    cues = find_urgency("never again, there was fire and smoke")
    assert [c.start for c in cues] == sorted(c.start for c in cues)
