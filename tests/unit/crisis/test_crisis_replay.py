"""The replay contract on a small CSV written here: parse, label, detect, score, JSON."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ventanilla.crisis import cli
from ventanilla.crisis.replay import assign_brands, read_csv, replay

START = datetime(2015, 2, 16, 0, 0, tzinfo=UTC)
COLUMNS = ["id", "created_at", "lang", "text", "sentiment", "brand", "retweet_count"]


def write_posts(path: Path, *, burst_hour: int = 62) -> None:
    """Three calm days of two brands, then an Acme burst; plus two broken rows."""
    rows: list[list[str]] = []
    n = 0
    for hour in range(72):
        busy = 6 if 12 <= hour % 24 <= 23 else 2
        for brand in ("Acme", "Globex"):
            for i in range(busy):
                n += 1
                negative = i % 3 == 0
                text = "terrible service again" if negative else "thanks for the help"
                moment = START + timedelta(hours=hour, minutes=i * 60 // busy)
                rows.append(
                    [
                        str(n),
                        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "en",
                        f"@{brand} {text}",
                        "negative" if negative else "neutral",
                        brand,
                        "0",
                    ]
                )
        if burst_hour - 1 <= hour <= burst_hour:
            for i in range(40 if hour == burst_hour else 15):
                n += 1
                moment = START + timedelta(hours=hour, minutes=i * 60 // 40)
                rows.append(
                    [
                        str(n),
                        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "en",
                        "@Acme cancelled flights everywhere, worst day",
                        "negative",
                        "Acme",
                        "3",
                    ]
                )
    rows.reverse()  # the replay must sort by created_at itself
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        writer.writerow(["x1", "not a time", "en", "@Acme terrible", "negative", "Acme", "0"])
        handle.write('x2,2015-02-17T10:00:00Z,en,"@Acme too many",negative,Acme,0,extra,fields\n')


@pytest.fixture
def posts_csv(tmp_path: Path) -> Path:
    path = tmp_path / "posts.csv"
    write_posts(path)
    return path


def test_bad_rows_are_skipped_and_counted(posts_csv: Path) -> None:
    read = read_csv(posts_csv)
    assert read.skipped == {"bad created_at": 1, "wrong number of fields": 1}
    assert read.has_brand_column


def test_replay_alerts_the_burst_before_its_peak(posts_csv: Path, labeller: Any) -> None:
    report = replay(posts_csv, labeller)
    data = report.to_json()
    assert data["skipped"] == 2
    acme_top = next(b for b in data["bursts"] if b["brand"] == "Acme" and b["rank"] == 1)
    assert acme_top["peak_hour"] == "2015-02-18T14:00:00Z"
    assert acme_top["lead_minutes"] is not None and acme_top["lead_minutes"] > 0
    assert data["largest_burst_hit_rate"] >= 0.5
    # The labeller was asked for reasons too; the file's sentiment column never reached it.
    assert labeller.calls and "reason" in labeller.calls[0]


def test_cli_prints_exactly_one_json_object(posts_csv: Path, labeller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "default_labeller", lambda: labeller)
    result = CliRunner().invoke(cli.app, ["replay", str(posts_csv), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"posts", "seconds", "alerts", "bursts", "false_alarms_per_brand_week"}
    assert data["posts"] == sum(1 for _ in posts_csv.open()) - 3  # header and two bad rows
    assert isinstance(data["seconds"], float)
    assert data["alerts"], "no alert for the burst"
    for alert in data["alerts"]:
        assert set(alert) >= {"time", "level", "brand", "topic", "why"}
        assert alert["level"] in {"watch", "warning", "crisis"}
        assert alert["time"].endswith("Z")
        datetime.fromisoformat(alert["time"])
    loud = [a for a in data["alerts"] if a["level"] in {"warning", "crisis"}]
    assert any("cancelled" in a["topic"] or "flights" in a["topic"] for a in loud)
    for burst in data["bursts"]:
        assert set(burst) >= {"brand", "peak_hour", "first_alert", "lead_minutes"}
    assert isinstance(data["false_alarms_per_brand_week"], float)


def test_cli_text_output(posts_csv: Path, labeller: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "default_labeller", lambda: labeller)
    result = CliRunner().invoke(cli.app, ["replay", str(posts_csv)])
    assert result.exit_code == 0, result.output
    assert "largest-burst hit rate" in result.stdout
    assert "negative posts in the last hour vs usual" in result.stdout


def test_brand_from_first_mention_when_there_is_no_brand_column(tmp_path: Path) -> None:
    path = tmp_path / "es.csv"
    texts = ["@Iberia retraso"] * 6 + ["@Vueling hola @Iberia"] + ["sin mención"] + ["@iberia otra vez"] * 3
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "created_at", "text"])
        for i, text in enumerate(texts):
            writer.writerow([i, f"2017-12-13T21:{i:02d}:00Z", text])
    brands = assign_brands(read_csv(path), min_brand_share=0.2)
    assert brands == ["iberia"] * 6 + ["other", None] + ["iberia"] * 3
