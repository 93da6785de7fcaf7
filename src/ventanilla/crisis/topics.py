"""Emerging topics: words and word pairs of negative posts whose share suddenly jumps.

For each brand we count the terms (single words and adjacent pairs, stop-words, @handles,
URLs and numbers removed; Spanish and English) of negative posts in the last hour, and keep a
slowly decaying history of the same counts. A term is *emerging* when its count in the last
hour is well above what its usual share of negative posts predicts. The topic's label is the
best pair when it carries most of its word's weight ("cancelled flights"), else the top two
words ("retrasos madrid"), with a few example posts.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, deque
from dataclasses import dataclass
from operator import itemgetter

_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+")
_WORD = re.compile(r"[^\W\d_]{3,}")

_STOP_EN = """
a about above after again against all am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each few for from further get got had hadn't has hasn't have haven't having he
her here hers herself him himself his how i i'm i've if in into is isn't it it's its itself
just let's me more most much my myself no nor not now of off on once only or other ought our
ours ourselves out over own really same she should shouldn't so some such than thank thanks
that that's the their theirs them themselves then there there's these they they're this those
through to too under until up us very via was wasn't we we're were weren't what what's when
where which while who whom why will with won't would wouldn't you you're your yours yourself
yourselves amp rt im dont cant ive youre still even one also back like yes yeah ok okay please
going know need want today tomorrow yesterday time via don didn doesn isn wasn aren weren
couldn wouldn shouldn haven hasn hadn won ain let never ever anyone someone something anything
since every many another though thru
"""
_STOP_ES = """
a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante e
el ella ellas ellos en entre era erais eran eras eres es esa esas ese eso esos esta estaba
estado estamos estan estar estas este esto estos estoy fue fueron fui ha habeis haber habia
han has hasta hay la las le les lo los mas me mi mis mucho muchos muy nada ni no nos nosotros
o os otra otro para pero poco por porque que quien se sea ser si sido sin sobre sois solo son
su sus también tambien te tengo tiene tienen todo todos tu tus un una uno unos vosotros y ya
yo él está están más qué sí también cómo dónde así hoy ayer mañana gracias hola pues aquí
ahí bien vez estás esto eso q d x pq xq ni tras cada otro otra vía
"""
STOP_WORDS = frozenset((_STOP_EN + _STOP_ES).split())
# Words every complaint to a travel or service brand uses: fine inside a pair ("cancelled
# flights"), too vague to name a topic on their own.
GENERIC_WORDS = frozenset(
    [
        "flight",
        "flights",
        "plane",
        "airline",
        "airlines",
        "help",
        "hours",
        "hour",
        "hrs",
        "customer",
        "service",
        "sorry",
        "company",
        "trip",
        "travel",
        "people",
        "day",
        "days",
        "minutes",
        "mins",
        "issue",
        "issues",
        "problem",
        "problems",
        "vuelo",
        "vuelos",
        "avión",
        "avion",
        "aerolínea",
        "aerolinea",
        "ayuda",
        "horas",
        "hora",
        "servicio",
        "cliente",
        "clientes",
        "compañía",
        "compania",
        "gente",
        "día",
        "dia",
        "días",
        "dias",
        "minutos",
        "problema",
        "problemas",
        "viaje",
    ]
)

HOUR = 3600.0
_BUCKET = 300.0


def terms(text: str) -> list[str]:
    """The words and adjacent word pairs of `text` that can name a topic.

    Lower-cased; URLs, @handles, numbers and Spanish/English stop-words removed; hashtags
    keep their word. Pairs are formed over the remaining words, so "retraso en Madrid"
    yields "retraso madrid".
    """
    words = [w for w in _WORD.findall(_NOISE.sub(" ", text.lower())) if w not in STOP_WORDS]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words) if a != b]
    return list(dict.fromkeys(words)) + list(dict.fromkeys(pairs))


@dataclass(frozen=True, slots=True)
class Topic:
    """An emerging topic: a readable label, the terms behind it and example posts."""

    label: str
    terms: tuple[str, ...]
    count: int
    expected: float
    examples: tuple[str, ...]


class TopicTracker:
    """Term counts of one brand's negative posts: sliding hour plus decayed history."""

    __slots__ = (
        "_boost",
        "_bucket_counts",
        "_bucket_ids",
        "_bucket_posts",
        "_checked",
        "_decay",
        "_history",
        "_history_posts",
        "_hour",
        "_last_hour_index",
        "_posts_now",
        "_recent_posts",
        "max_terms",
    )

    def __init__(self, *, half_life_hours: float = 48.0, max_terms: int = 5000) -> None:
        self._bucket_counts: list[Counter[str]] = [Counter() for _ in range(12)]
        self._bucket_ids = [-1] * 12
        self._bucket_posts = [0] * 12
        self._hour: Counter[str] = Counter()  # last hour's counts, as of `emerging`
        self._posts_now = 0
        self._history: dict[str, float] = {}
        self._history_posts = 0.0
        # Lazy decay: history values are stored multiplied by `_boost`, which grows each hour,
        # so ageing costs O(1) instead of touching every term (renormalised when large).
        self._boost = 1.0
        self._checked = -1
        self._decay = 0.5 ** (1.0 / half_life_hours)
        self._last_hour_index = -1
        # Each recent post keeps its term list (read only when an alert names examples).
        self._recent_posts: deque[tuple[float, str, list[str]]] = deque(maxlen=200)
        self.max_terms = max_terms

    def observe(self, time: float, text: str) -> None:
        """Count the terms of one negative post at `time` (posts more than an hour late
        are ignored)."""
        if self._checked >= 0 and int(time // _BUCKET) <= self._checked - 12:
            return
        slot = self._roll(time)
        found = terms(text)
        # `terms` yields each term once, so one C-level update counts them all.
        self._bucket_counts[slot].update(found)
        self._bucket_posts[slot] += 1
        self._posts_now += 1
        self._recent_posts.append((time, text, found))

    def _roll(self, time: float) -> int:
        """Expire buckets that left the hour into the history; return the slot of `time`."""
        bucket = int(time // _BUCKET)
        if bucket == self._checked and self._bucket_ids[bucket % 12] == bucket:
            return bucket % 12  # the common case: another post in the current 5 minutes
        if bucket <= self._checked:
            # Same or a recent earlier bucket: nothing expires; claim the slot if empty.
            slot = bucket % 12
            if self._bucket_ids[slot] == -1:
                self._bucket_ids[slot] = bucket
            return slot
        self._checked = bucket
        ids = self._bucket_ids
        for slot in range(12):
            old = ids[slot]
            if old != -1 and old <= bucket - 12:
                self._fold(slot)
        slot = bucket % 12
        if ids[slot] != bucket:
            if ids[slot] != -1:
                self._fold(slot)
            ids[slot] = bucket
        hour_index = int(time // HOUR)
        if hour_index > self._last_hour_index:
            if self._last_hour_index >= 0:
                self._age(hour_index - self._last_hour_index)
            self._last_hour_index = hour_index
        return slot

    def _fold(self, slot: int) -> None:
        history = self._history
        boost = self._boost
        for term, n in self._bucket_counts[slot].items():
            history[term] = history.get(term, 0.0) + n * boost
        self._history_posts += self._bucket_posts[slot] * self._boost
        self._posts_now -= self._bucket_posts[slot]
        self._bucket_counts[slot] = Counter()
        self._bucket_posts[slot] = 0
        self._bucket_ids[slot] = -1

    def _age(self, hours: int) -> None:
        self._boost /= self._decay ** min(hours, 10_000)
        if self._boost > 1e9 or len(self._history) > self.max_terms:
            factor = 1.0 / self._boost
            self._boost = 1.0
            self._history_posts *= factor
            keep = sorted(self._history.items(), key=itemgetter(1), reverse=True)
            self._history = {t: v * factor for t, v in keep[: self.max_terms // 2]}

    def emerging(
        self,
        now: float,
        *,
        limit: int = 3,
        min_count: int = 3,
        exclude: frozenset[str] = frozenset(),
    ) -> list[Topic]:
        """Topics whose last-hour count beats their usual share of negative posts.

        `exclude`: words that never name a topic (e.g. the brand's own name). A generic word
        ("flight", "horas") names a topic only inside a pair.
        """
        self._roll(now)
        posts_now = self._posts_now
        if posts_now == 0:
            return []
        base_posts = self._history_posts / self._boost
        # The hour's counts are summed from the 5-minute buckets only here (alerts are rare;
        # posts are not), which keeps `observe` to one counter update per term.
        hour: Counter[str] = Counter()
        for counts in self._bucket_counts:
            hour.update(counts)
        self._hour = hour
        scored: list[tuple[float, str, int, float]] = []
        for term, count in hour.items():
            if count < min_count:
                continue
            parts = term.split()
            if any(w in exclude for w in parts) or all(w in GENERIC_WORDS for w in parts):
                continue
            share = (self._history.get(term, 0.0) / self._boost + 0.5) / (base_posts + 5.0)
            expected = share * posts_now
            if count < 2.0 * expected:
                continue
            score = (count - expected) / math.sqrt(expected + 1.0)
            # Pairs are rarer than words; a small bonus lets a clear pair win the label.
            if " " in term:
                score *= 1.15
            scored.append((score, term, count, expected))
        scored.sort(key=lambda item: (-item[0], item[1]))
        topics: list[Topic] = []
        used: set[str] = set()
        for _score, term, count, expected in scored:
            words = set(term.split())
            if words & used or (" " not in term and term in GENERIC_WORDS):
                continue
            label, label_terms = self._label(term, scored, used)
            used |= {w for t in label_terms for w in t.split()}
            topics.append(
                Topic(
                    label=label,
                    terms=label_terms,
                    count=count,
                    expected=round(expected, 2),
                    examples=self._examples(label_terms),
                )
            )
            if len(topics) >= limit:
                break
        return topics

    def _label(
        self, top: str, scored: list[tuple[float, str, int, float]], used: set[str]
    ) -> tuple[str, tuple[str, ...]]:
        if " " in top:
            return self._phrase(top, scored), (top,)
        # A word alone reads badly: take the strongest pair containing it if it carries at
        # least half the word's posts, else pair it with the next emerging word.
        count = self._hour[top]
        for _s, term, n, _e in scored:
            if " " in term and top in term.split() and n * 2 >= count:
                return term, (term,)
        for _s, term, n, _e in scored:
            if " " not in term and term != top and term not in used and n * 2 >= count:
                return f"{top} {term}", (top, term)
        return top, (top,)

    def _phrase(self, pair: str, scored: list[tuple[float, str, int, float]]) -> str:
        """Grow a pair into a three-word phrase when a chained pair is (almost) as frequent.

        "retrasos madrid" + "madrid barajas" → "retrasos madrid barajas".
        """
        first, second = pair.split()
        count = self._hour[pair]
        for _s, term, n, _e in scored:
            if " " not in term or term == pair or n < 0.8 * count:
                continue
            a, b = term.split()
            if a == second and b != first:
                return f"{first} {second} {b}"
            if b == first and a != second:
                return f"{a} {first} {second}"
        return pair

    def _examples(self, label_terms: tuple[str, ...], limit: int = 3) -> tuple[str, ...]:
        found: list[str] = []
        for _time, text, term_list in reversed(self._recent_posts):
            post_terms = set(term_list)
            if any(t in post_terms for t in label_terms) and text not in found:
                found.append(text)
                if len(found) >= limit:
                    break
        return tuple(found)
