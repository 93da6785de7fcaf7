"""The small trained classifier that catches polite-sounding put-downs no word list does.

Logistic regression over word 1-2-grams, in-word character 3-5-grams and cue-word classes of
each clause of the folded reply, its features scaled by the square root of how many there are.
Only the weights ship (JSON, no pickle), so scoring is a dictionary walk: fast, transparent and
safe to load.
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

# A put-down is often one clause of a polite sentence ("Sentimos la espera, aunque tampoco hace
# falta escribir diez veces al día"), so the model reads clauses: sentences cut at ; and : and
# before a contrast ("pero", "aunque", "but", "though").
_CLAUSE_BREAK = re.compile(
    r"[;:]\s+|,\s+(?=(?:pero|aunque|sino|but|though|although)\b)|\s+[-\u2014]\s+"
)

# Cue classes: small families of words that condescension is built from (the customer as
# "you", how easy it is, what they know or read, everybody else, repetition, drama, irony, time,
# price, hedges). A clause gets a feature per class present, and per class next to "you", so the
# model can learn "you + ease" from a few examples instead of every wording. A stem ending in
# "*" matches any word that starts with it.
CUE_CLASSES: dict[str, str] = {
    "you": "usted tu te ti le les su sus vd ud contigo you your yours yourself",
    "ease": "facil* sencill* simple* dificil* complicad* complicated easy easier hard difficult "
    "misterio science despac* slowly basic* obvi* evident* claro clear*",
    "ability": "sab* sepa* entiend* entender comprend* understand* know* knew manage* capaz "
    "able cuesta struggl* lista listo clever smart expert* genio genius atencion attention leer "
    "lea leido read reading lee",
    "others": "cualquier* nadie todo todos mundo demas mayoria gente anyone anybody everyone "
    "everybody nobody most others people unic* only primer* first",
    "repeat": "otra vez veces nuevo again times time ya already insist* repet* repeat* mil "
    "thousand tercer* third",
    "drama": "drama* escandalo espectaculo fuss tanto much exager* exaggerat* tono tone calm* "
    "tranquil* relax* paciencia patience",
    "irony": "vaya menud* madre enhorabuena felicit* congratulations wow oh well bueno pues sure "
    "right claro casualidad funny gracia original sorpresa surprise shock* honest* "
    "sinceramente verdad fancy",
    "time": "tiempo time prisa hurry libre free turno turn esperar wait",
    "price": "precio price pag* paid pay euros pound* barato cheap",
    "hedge": "animo ofend* offence offense carino love tip respect* respet* perdona perdone sorry",
}
CUE_REPEAT = 3  # each cue feature counts three times, as in training


def _cue_tables() -> tuple[dict[str, tuple[str, ...]], tuple[tuple[str, str], ...]]:
    exact: dict[str, list[str]] = {}
    prefixes: list[tuple[str, str]] = []
    for name, words in CUE_CLASSES.items():
        for word in words.split():
            if word.endswith("*"):
                prefixes.append((word[:-1], name))
            else:
                exact.setdefault(word, []).append(name)
    return {w: tuple(names) for w, names in exact.items()}, tuple(prefixes)


_CUE_EXACT, _CUE_PREFIXES = _cue_tables()


def word_cues(word: str) -> frozenset[str]:
    """The cue classes a word belongs to."""
    found = set(_CUE_EXACT.get(word, ()))
    found.update(name for prefix, name in _CUE_PREFIXES if word.startswith(prefix))
    return frozenset(found)


def cue_features(classes: set[str] | frozenset[str]) -> list[str]:
    """A clause's cue features from the classes of its words (each repeated CUE_REPEAT times)."""
    found = ["k:" + name for name in sorted(classes)]
    if "you" in classes:
        found.extend("k:you+" + name for name in sorted(classes) if name != "you")
    return found * CUE_REPEAT


def clause_spans(folded: str, start: int, end: int) -> list[tuple[int, int]]:
    """The clauses of the sentence folded[start:end], as absolute (start, end) offsets."""
    spans: list[tuple[int, int]] = []
    position = start
    for match in _CLAUSE_BREAK.finditer(folded, start, end):
        if match.start() > position:
            spans.append((position, match.start()))
        position = match.end()
    if end > position:
        spans.append((position, end))
    return spans


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
    classes: set[str] = set()
    for word in words:
        classes.update(word_cues(word))
    found.extend(cue_features(classes))
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
    _word_cache: dict[str, tuple[float, int, frozenset[str]]] = field(
        default_factory=dict, repr=False
    )
    _cue_cache: dict[frozenset[str], tuple[float, int]] = field(default_factory=dict, repr=False)

    def _word(self, word: str) -> tuple[float, int, frozenset[str]]:
        cached = self._word_cache.get(word)
        if cached is None:
            grams = word_features(word)
            weights = self.weights
            cached = (sum(weights.get(gram, 0.0) for gram in grams), len(grams), word_cues(word))
            if len(self._word_cache) < 100_000:
                self._word_cache[word] = cached
        return cached

    def _cues(self, classes: frozenset[str]) -> tuple[float, int]:
        cached = self._cue_cache.get(classes)
        if cached is None:
            found = cue_features(classes)
            cached = (sum(self.weights.get(f, 0.0) for f in found), len(found))
            self._cue_cache[classes] = cached
        return cached

    def probability(self, text: str, *, folded: bool = False) -> float:
        """Probability (0-1) that `text` is rude or condescending."""
        words = words_of(text if folded else fold(text))
        total = 0.0
        count = 0
        classes: frozenset[str] = frozenset()
        for word in words:
            weight, size, cues = self._word(word)
            total += weight
            count += size
            if cues:
                classes |= cues
        get = self.weights.get
        for first, second in pairwise(words):
            total += get("b:" + first + " " + second, 0.0)
            count += 1
        weight, size = self._cues(classes)
        total += weight
        count += size
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
    """rudeness from the classifier: medium above its threshold, a low hint above 0.5.

    The finding points at the rudest clause.
    """
    model = shipped_model()
    if model is None:
        return []
    best_probability = 0.0
    best_span = None
    folded = reply.folded
    for sentence in reply.sentences:
        for start, end in clause_spans(folded, sentence.start, sentence.end):
            probability = model.probability(folded[start:end], folded=True)
            if probability > best_probability:
                best_probability, best_span = probability, (start, end)
    if best_span is None or best_probability < model.hint_threshold:
        return []
    severity: Severity = "medium" if best_probability >= model.threshold else "low"
    message, suggestion = advice("rudeness", context.reply_lang)
    return [Finding("rudeness", severity, best_span[0], best_span[1], suggestion, message)]
