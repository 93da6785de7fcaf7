"""The small trained classifier that catches polite-sounding put-downs no word list does.

Logistic regression over word 1-2-grams and in-word character 3-5-grams of the folded reply,
each text's binary features scaled to unit length. Only the weights ship (JSON, no pickle), so
scoring is a dictionary walk: fast, transparent and safe to load.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from ventanilla.replies.lint.advice import advice
from ventanilla.replies.lint.context import LintContext
from ventanilla.replies.lint.finding import Finding, Severity
from ventanilla.replies.lint.reply_text import ReplyText, fold

MODEL_PATH = Path(__file__).resolve().parent.parent / "artifacts" / "rudeness_model.json"
MAX_SCORED_CHARS = 5000

_NOISE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w.-]+|@\w+|https?://\S+|\d+")
_TOKEN = re.compile(r"[a-zñ']+")


def word_features(word: str) -> list[str]:
    """A word's own features: the word and its in-word character 3-5-grams (with repeats)."""
    padded = f" {word} "
    grams = [
        "c:" + padded[start : start + size]
        for size in (3, 4, 5)
        for start in range(len(padded) - size + 1)
    ]
    grams.append("w:" + word)
    return grams


def words_of(folded: str) -> list[str]:
    """The words the model reads in a folded text (handles, links and numbers left out)."""
    return _TOKEN.findall(_NOISE.sub(" ", folded[:MAX_SCORED_CHARS]))


def features(folded: str) -> list[str]:
    """The model's features of a folded text, repeats included (a bag, not a set)."""
    words = words_of(folded)
    found = [feature for word in words for feature in word_features(word)]
    found.extend("b:" + first + " " + second for first, second in pairwise(words))
    return found


@dataclass(frozen=True, slots=True)
class RudenessModel:
    """Weights, intercept and the two decision thresholds (finding, hint).

    A text's score is the sum of its features' weights over the square root of how many
    features it has, plus the intercept; per-word sums are cached, so scoring costs a few
    dictionary lookups per word.
    """

    weights: dict[str, float]
    intercept: float
    threshold: float
    hint_threshold: float
    version: str
    _word_cache: dict[str, tuple[float, int]] = field(default_factory=dict, repr=False)

    def _word(self, word: str) -> tuple[float, int]:
        cached = self._word_cache.get(word)
        if cached is None:
            grams = word_features(word)
            weights = self.weights
            cached = (sum(weights.get(gram, 0.0) for gram in grams), len(grams))
            if len(self._word_cache) < 100_000:
                self._word_cache[word] = cached
        return cached

    def probability(self, text: str, *, folded: bool = False) -> float:
        """Probability (0-1) that `text` is rude or condescending."""
        words = words_of(text if folded else fold(text))
        total = 0.0
        count = 0
        for word in words:
            weight, size = self._word(word)
            total += weight
            count += size
        get = self.weights.get
        for first, second in pairwise(words):
            total += get("b:" + first + " " + second, 0.0)
            count += 1
        score = self.intercept + (total / math.sqrt(count) if count else 0.0)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))

    def evidence(self, text: str, limit: int = 5) -> list[str]:
        """The words and word pairs that pushed `text` towards rude the most."""
        found = {f for f in features(fold(text)) if f[0] in "wb"}
        ranked = sorted(found, key=lambda f: self.weights.get(f, 0.0), reverse=True)
        return [f[2:] for f in ranked[:limit] if self.weights.get(f, 0.0) > 0]


def load_model(path: str | Path = MODEL_PATH) -> RudenessModel:
    """Read a model file written by `train_rudeness_model`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return RudenessModel(
        weights={str(k): float(v) for k, v in data["weights"].items()},
        intercept=float(data["intercept"]),
        threshold=float(data["threshold"]),
        hint_threshold=float(data["hint_threshold"]),
        version=str(data["version"]),
    )


@lru_cache(maxsize=1)
def shipped_model() -> RudenessModel | None:
    """The model shipped in `artifacts/`, or None when it is missing (word lists still work)."""
    try:
        return load_model(MODEL_PATH)
    except (OSError, ValueError, KeyError):
        return None


def check_rude_model(reply: ReplyText, context: LintContext) -> list[Finding]:
    """rudeness from the classifier: medium above its threshold, a low hint above 0.5."""
    model = shipped_model()
    if model is None:
        return []
    best_probability = 0.0
    best_span = None
    for span in reply.sentences:
        probability = model.probability(reply.folded[span.start : span.end], folded=True)
        if probability > best_probability:
            best_probability, best_span = probability, span
    if best_span is None or best_probability < model.hint_threshold:
        return []
    severity: Severity = "medium" if best_probability >= model.threshold else "low"
    message, suggestion = advice("rudeness", context.reply_lang)
    return [Finding("rudeness", severity, best_span.start, best_span.end, suggestion, message)]
