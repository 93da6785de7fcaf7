"""Emerging topics have readable labels and example posts."""

from __future__ import annotations

from ventanilla.crisis.topics import TopicTracker, terms

T0 = 1_424_649_600.0


def test_terms_drop_handles_urls_numbers_and_stop_words() -> None:
    found = terms("@Iberia otra vez retraso en Madrid!! http://t.co/xyz 45 minutos #retrasos")
    assert "iberia" not in found
    assert not any("http" in t or "t.co" in t for t in found)
    assert "45" not in found
    assert {"retraso", "madrid", "minutos", "retrasos"} <= set(found)
    assert "retraso madrid" in found
    assert "otra" not in found and "vez" not in found


def test_english_terms() -> None:
    found = terms("@united my flight was Cancelled again and I'm stuck in Denver")
    assert "cancelled" in found
    assert "flight cancelled" in found
    assert "was" not in found and "and" not in found


def feed(tracker: TopicTracker, start_hour: float, hours: int, texts: list[str]) -> None:
    per_hour = len(texts)
    for h in range(hours):
        for i, text in enumerate(texts):
            tracker.observe(T0 + (start_hour + h) * 3600 + i * 3600 / per_hour, text)


def test_an_english_topic_gets_a_pair_label_and_examples() -> None:
    tracker = TopicTracker()
    usual = ["lost my bag", "rude agent at the gate", "app crashed at check in", "seat broken"]
    feed(tracker, 0, 24, usual)
    burst = [f"@united cancelled flights again, stuck in Denver #{i}" for i in range(12)]
    feed(tracker, 24, 1, usual + burst)
    topics = tracker.emerging(T0 + 25 * 3600 - 1)
    assert topics, "no topic found"
    top = topics[0]
    assert "cancelled flights" in top.label
    assert top.count >= 10
    assert len(top.examples) == 3
    assert all("cancelled" in e.lower() or "denver" in e.lower() for e in top.examples)


def test_a_spanish_topic_reads_naturally() -> None:
    tracker = TopicTracker()
    usual = ["la maleta no llega", "el personal fue muy borde", "la web no funciona"]
    feed(tracker, 0, 24, usual)
    burst = [f"@Iberia retrasos en Madrid otra vez, {i} horas" for i in range(10)]
    feed(tracker, 24, 1, usual + burst)
    (top, *_rest) = tracker.emerging(T0 + 25 * 3600 - 1)
    assert "retrasos madrid" in top.label


def test_usual_words_are_not_emerging() -> None:
    tracker = TopicTracker()
    usual = ["lost my bag", "rude agent at the gate", "app crashed at check in"]
    feed(tracker, 0, 30, usual)
    assert tracker.emerging(T0 + 30 * 3600 - 1) == []


def test_generic_words_and_the_brand_name_do_not_name_a_topic() -> None:
    tracker = TopicTracker()
    feed(tracker, 0, 24, ["lost my bag", "rude agent at the gate"])
    burst = [f"United flight delayed again, wifi broken on board {i}" for i in range(10)]
    feed(tracker, 24, 1, burst)
    labels = [t.label for t in tracker.emerging(T0 + 25 * 3600 - 1, exclude=frozenset({"united"}))]
    assert labels
    assert "flight" not in labels
    assert not any("united" in label for label in labels)
