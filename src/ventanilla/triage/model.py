"""The Triager: one shared featuriser, several linear heads, one matrix product per batch.

Artefacts (``artifacts/``): ``triage.npz`` holds the hashed feature indices kept
at training time, their IDF, the stacked head weights ``theta`` (features x
outputs) and biases; ``triage.json`` names the heads, their classes and output
columns, the version and the cross-validation figures.

Prediction caches, per token type, its score row ``type_row @ theta`` and its
squared norm, so a batch costs one regex pass, one dictionary lookup per token,
two small sparse products (tokens, bigrams) and a softmax per head.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, pairwise
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ventanilla.triage import features as F
from ventanilla.triage.abuse import LEXICON_CONFIDENCE, SPANISH_INSULTS, is_insult
from ventanilla.triage.intent import (
    INTENT_NAMES,
    PROMO_WORDS,
    QUESTION_WORDS,
    REQUEST_STEMS,
    REQUEST_WORDS,
    decide_intent,
)
from ventanilla.triage.result import Label, TriageBatch, TriageResult
from ventanilla.triage.taxonomy import reason_code
from ventanilla.triage.urgency import find_urgency_batch

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
MAX_CACHED_TYPES = 400_000
EVIDENCE_WORDS = 3
ALL_LABELS: tuple[str, ...] = (
    "language", "complaint", "sentiment", "reason", "offensive", "intent",
)

# per-type flag bits
_WORD, _NONLATIN, _REQUEST, _QWORD, _PROMO, _QMARK, _URL, _INSULT = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclass(frozen=True, slots=True)
class Head:
    """One linear head: ``softmax`` over ``classes`` or ``sigmoid`` for ('no', 'yes')."""

    name: str
    classes: tuple[str, ...]
    start: int
    kind: str

    @property
    def width(self) -> int:
        """Number of output columns the head uses in ``theta``."""
        return len(self.classes) if self.kind == "softmax" else 1


def _flags_digest() -> str:
    """A digest of the rule lexicons behind the flag bits (shipped flags are reused only
    when it matches, so editing a word list never leaves stale flags in the type table)."""
    parts = (sorted(REQUEST_WORDS), REQUEST_STEMS, sorted(QUESTION_WORDS), sorted(PROMO_WORDS),
             sorted(SPANISH_INSULTS), (_WORD, _NONLATIN, _REQUEST, _QWORD, _PROMO, _QMARK, _URL,
                                       _INSULT))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


FLAGS_DIGEST = _flags_digest()
_EMPTY_KEY = F.string_key("")
_NAMED_KINDS = frozenset(("word", "mention", "number"))


def chunk_subtokens(chunk: str) -> list[str]:
    """Sub-tokens of a chunk for the cache; a chunk that is one URL maps to the single
    sub-token ``http://`` (every URL has the same features), so new URLs cost nothing."""
    if chunk.isalpha():
        return [chunk]
    if chunk.startswith(("http://", "https://")):
        return ["http://"]
    return F.split_chunk(chunk)


def _subtoken_flags(token: str) -> int:
    """Flag bits of one sub-token."""
    kind = F.subtoken_info(token)[0]
    flags = 0
    if kind == "word":
        flags |= _WORD
        low = token.lower()
        if not any("a" <= ch <= "z" or "\u00c0" <= ch <= "\u024f" for ch in low):
            flags |= _NONLATIN
        if low in REQUEST_WORDS or low.startswith(REQUEST_STEMS):
            flags |= _REQUEST
        if low in QUESTION_WORDS:
            flags |= _QWORD
        if low in PROMO_WORDS:
            flags |= _PROMO
        if is_insult(low):
            flags |= _INSULT
    elif kind == "url":
        flags |= _URL
    elif "?" in token or "¿" in token:
        flags |= _QMARK
    return flags


class _Displays:
    """Evidence display forms of the cached token types: a code per type id (-1 until first
    shown) into the distinct forms, so a batch's evidence is picked with array lookups.

    A new one comes with every reset of the type cache; a batch keeps the one its type ids
    belong to."""

    __slots__ = ("array", "code", "forms", "index")

    def __init__(self, capacity: int) -> None:
        self.code = np.full(capacity, -1, dtype=np.int64)
        self.forms: list[str] = []
        self.index: dict[str, int] = {}
        self.array = np.empty(0, dtype=object)

    def grow(self, capacity: int) -> None:
        """Room for type ids below ``capacity`` (new ones unknown)."""
        if capacity > len(self.code):
            self.code = np.concatenate((self.code, np.full(capacity - len(self.code), -1, dtype=np.int64)))

    def learn(self, type_ids: np.ndarray, tokens: Sequence[str]) -> None:
        """Codes for ``type_ids`` whose chunk (``tokens``, aligned) was never shown before."""
        index, forms, code = self.index, self.forms, self.code
        learnt: list[tuple[int, int]] = []
        for tid, tok in zip(type_ids.tolist(), tokens, strict=True):
            if code[tid] < 0:
                form = F.chunk_display(tok)
                found = index.get(form)
                if found is None:
                    found = index[form] = len(forms)
                    forms.append(form)
                learnt.append((tid, found))
        if len(self.array) != len(forms):
            self.array = np.array(forms, dtype=object)
        # codes last: a reader that sees a code finds its form in `array`
        for tid, found in learnt:
            code[tid] = found


@dataclass(slots=True)
class _Batch:
    """Token-level and document-level arrays of one scored batch."""

    tokens: list[str]
    ids: np.ndarray
    doc: np.ndarray
    norm: np.ndarray
    scores: np.ndarray
    n_words: np.ndarray
    displays: _Displays | None = None


class Triager:
    """Predicts every triage label for batches of texts; see module docstring for the design."""

    def __init__(
        self,
        used: np.ndarray,
        idf: np.ndarray,
        theta: np.ndarray,
        bias: np.ndarray,
        heads: Sequence[Head],
        version: str,
        meta: dict[str, object] | None = None,
        type_table: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Build a triager from compact weights (rows of ``theta`` follow ``used``).

        ``type_table`` (optional) holds precomputed rows of frequent sub-tokens, keyed by
        a 64-bit hash of the sub-token (no strings are shipped): ``hashes``, ``scores``,
        ``sq``, ``keys``, ``named``, ``flags``. It makes the first pass over new data fast.
        """
        self.used = np.asarray(used, dtype=np.int64)
        self.idf = np.concatenate(([0.0], np.asarray(idf, dtype=np.float64))).astype(np.float32)
        self.theta = np.vstack(
            [np.zeros((1, theta.shape[1]), dtype=np.float32), theta.astype(np.float32)]
        )
        self.bias = np.asarray(bias, dtype=np.float64)
        self.heads = {h.name: h for h in heads}
        self.version = version
        self.meta: dict[str, object] = dict(meta or {})
        self._remap = np.zeros(F.N_FEATURES, dtype=np.int32)
        self._remap[self.used] = np.arange(1, len(self.used) + 1, dtype=np.int32)
        self._lock = threading.Lock()
        self._updates = 0
        self._table: dict[str, np.ndarray] | None = None
        self._table_index: dict[int, int] = {}
        self._table_flags_ok = self.meta.get("flags_digest") == FLAGS_DIGEST
        if type_table is not None and "named" not in type_table:
            type_table = None  # a table of the older chunk-level format: ignore it
        if type_table is not None:
            self._table = type_table
            self._table_index = dict(
                zip(type_table["hashes"].tolist(), range(len(type_table["hashes"])), strict=True)
            )
        self._reset_cache()

    # ------------------------------------------------------------------ cache
    def _reset_cache(self) -> None:
        """Forget cached chunk and sub-token types (after an update or when full)."""
        k = self.theta.shape[1]
        self._type_id: dict[str, int] = {}
        self._scores = np.zeros((1024, k), dtype=np.float32)
        self._sq = np.zeros(1024, dtype=np.float64)
        self._keys = np.zeros(1024, dtype=np.uint64)
        self._flags = np.zeros(1024, dtype=np.int64)
        self._sub_id: dict[str, int] = {}
        self._sub_scores = np.zeros((1024, k), dtype=np.float32)
        self._sub_sq = np.zeros(1024, dtype=np.float64)
        self._sub_keys = np.zeros(1024, dtype=np.uint64)
        self._sub_named = np.zeros(1024, dtype=bool)
        self._sub_flags = np.zeros(1024, dtype=np.int64)
        self._displays = _Displays(1024)

    def _weighted_rows(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        """Raw hashed rows -> compact columns with IDF applied (unknown features dropped)."""
        cols = self._remap[rows.indices]
        data = (rows.data * self.idf[cols]).astype(np.float32)
        out = sp.csr_matrix(
            (data, cols, rows.indptr.copy()), shape=(rows.shape[0], self.theta.shape[0])
        )
        out.eliminate_zeros()
        return out

    def _add_subtokens(self, new: list[str]) -> None:
        """Give unseen sub-tokens cached rows: from the shipped table, else featurised."""
        start = len(self._sub_id)
        end = start + len(new)
        if end > len(self._sub_sq):
            cap = max(end, 2 * len(self._sub_sq))
            self._sub_scores = np.resize(self._sub_scores, (cap, self._sub_scores.shape[1]))
            self._sub_sq = np.resize(self._sub_sq, cap)
            self._sub_keys = np.resize(self._sub_keys, cap)
            self._sub_named = np.resize(self._sub_named, cap)
            self._sub_flags = np.resize(self._sub_flags, cap)
        table = self._table
        missing: list[int]
        if table is not None:
            get = self._table_index.get
            found = np.fromiter((get(h, -1) for h in F.string_keys(new).tolist()),
                                dtype=np.int64, count=len(new))
            known = found >= 0
            if known.any():
                pos = start + np.flatnonzero(known)
                src = found[known]
                self._sub_scores[pos] = table["scores"][src]
                self._sub_sq[pos] = table["sq"][src]
                self._sub_keys[pos] = table["keys"][src]
                self._sub_named[pos] = table["named"][src]
                if self._table_flags_ok:
                    self._sub_flags[pos] = table["flags"][src]
                else:
                    self._sub_flags[pos] = [_subtoken_flags(new[i])
                                            for i in np.flatnonzero(known).tolist()]
            missing = np.flatnonzero(~known).tolist()
        else:
            missing = list(range(len(new)))
        if missing:
            todo = [new[i] for i in missing]
            pos = start + np.asarray(missing, dtype=np.int64)
            rows = F.subtoken_rows(todo)
            w = self._weighted_rows(rows.matrix)
            self._sub_scores[pos] = w @ self.theta
            self._sub_sq[pos] = np.asarray(w.multiply(w).sum(axis=1)).ravel()
            self._sub_keys[pos] = rows.keys
            info = F.subtoken_info
            self._sub_named[pos] = [info(t)[0] in _NAMED_KINDS for t in todo]
            self._sub_flags[pos] = [_subtoken_flags(t) for t in todo]
        self._sub_id.update(zip(new, range(start, end), strict=True))

    def _add_types(self, new: list[str]) -> None:
        """Cache unseen chunk types: each is the sum of its sub-tokens' cached rows."""
        if len(self._type_id) + len(new) > MAX_CACHED_TYPES or len(self._sub_id) > MAX_CACHED_TYPES:
            self._reset_cache()
        start = len(self._type_id)
        end = start + len(new)
        if end > len(self._sq):
            cap = max(end, 2 * len(self._sq))
            self._scores = np.resize(self._scores, (cap, self._scores.shape[1]))
            self._sq = np.resize(self._sq, cap)
            self._keys = np.resize(self._keys, cap)
            self._flags = np.resize(self._flags, cap)
            self._displays.grow(cap)
        split = chunk_subtokens
        all_subs = [[c] if c.isalpha() else split(c) for c in new]
        flat_subs = list(chain.from_iterable(all_subs))
        sub_id = self._sub_id
        unseen = [t for t in dict.fromkeys(flat_subs) if t not in sub_id]
        if unseen:
            self._add_subtokens(unseen)
        sizes = list(map(len, all_subs))
        n = len(new)
        sids = np.fromiter(map(sub_id.__getitem__, flat_subs), dtype=np.int64,
                           count=len(flat_subs))
        size = np.asarray(sizes, dtype=np.int64)
        indptr = np.concatenate(([0], np.cumsum(size)))
        chunk_of = np.repeat(np.arange(n, dtype=np.int64), size)
        assign = sp.csr_matrix((np.ones(len(sids)), sids, indptr),
                               shape=(n, len(self._sub_sq)))
        pos = np.arange(start, end)
        self._scores[pos] = assign @ self._sub_scores
        self._sq[pos] = np.bincount(chunk_of, weights=self._sub_sq[sids], minlength=n)
        flags = np.zeros(n, dtype=np.int64)
        nonempty = size > 0
        if nonempty.any():
            flags[nonempty] = np.bitwise_or.reduceat(self._sub_flags[sids],
                                                     indptr[:-1][nonempty])
        self._flags[pos] = flags
        # bigram key: the key of the chunk's only word/mention/number (or only sub-token);
        # chunks with several names (or several symbols only) hash their joined names
        keys = np.full(n, _EMPTY_KEY, dtype=np.uint64)
        named = self._sub_named[sids]
        n_named = np.bincount(chunk_of, weights=named, minlength=n)
        keys[chunk_of[named]] = self._sub_keys[sids[named]]
        single = size == 1
        keys[single] = self._sub_keys[sids[indptr[:-1][single]]]
        info = F.subtoken_info
        for i in np.flatnonzero((n_named > 1) | ((n_named == 0) & (size > 1))).tolist():
            subs = all_subs[i]
            names = [nm for kind, nm in map(info, subs) if kind in _NAMED_KINDS]
            keys[i] = F.string_key(" ".join(names or [info(t)[1] for t in subs]))
        self._keys[pos] = keys
        self._type_id.update(zip(new, range(start, end), strict=True))

    def _token_ids(self, tokens: list[str]) -> np.ndarray:
        """Cached type id of every token, featurising new types on the way."""
        table = self._type_id
        new = [t for t in set(tokens) if t not in table]
        if new:
            # no reference cycles are made here; a full collection over a large heap
            # (a worker's caches) in the middle of the batch costs more than the batch
            enabled = gc.isenabled()
            gc.disable()
            try:
                self._add_types(new)
            finally:
                if enabled:
                    gc.enable()
            table = self._type_id
        return np.fromiter(map(table.__getitem__, tokens), dtype=np.int64, count=len(tokens))

    # ---------------------------------------------------------------- scoring
    def _score(self, texts: Sequence[str]) -> _Batch:
        """Scores (docs x outputs, before softmax) of a batch, with token bookkeeping."""
        clean = [F.clean_text(t) for t in texts]
        n = len(clean)
        with self._lock:
            tokens, doc = F.tokenize_batch(clean)
            ids = self._token_ids(tokens)
            scores_t = self._scores
            sq_t = self._sq
            keys_t = self._keys
            flags_t = self._flags
            displays = self._displays
        k = self.theta.shape[1]
        counts = sp.csr_matrix(
            (np.ones(len(ids)), ids, np.searchsorted(doc, np.arange(n + 1))),
            shape=(n, len(sq_t)),
        )
        scores = np.asarray(counts @ scores_t)
        sq = np.bincount(doc, weights=sq_t[ids], minlength=n)
        bdoc, bcol = F.bigram_features(keys_t[ids], doc)
        if len(bcol):
            bc = self._remap[bcol]
            bval = np.float32(F.BIGRAM_WEIGHT) * self.idf[bc]
            known = bc > 0
            big = sp.csr_matrix(
                (bval[known], bc[known], np.searchsorted(bdoc[known], np.arange(n + 1))),
                shape=(n, self.theta.shape[0]),
            )
            scores += big @ self.theta
            sq += np.bincount(bdoc, weights=bval.astype(np.float64) ** 2, minlength=n)
        norm = np.sqrt(sq)
        norm[norm == 0] = 1.0
        scores = scores / norm[:, None] + self.bias[None, :k]
        n_words = np.bincount(doc, weights=(flags_t[ids] & _WORD) > 0, minlength=n)
        return _Batch(tokens=tokens, ids=ids, doc=doc, norm=norm, scores=scores, n_words=n_words,
                      displays=displays)

    def _proba(self, batch: _Batch, head: str) -> np.ndarray:
        """Class probabilities (docs x classes) of one head, shrunk for word-less texts."""
        h = self.heads[head]
        s = batch.scores[:, h.start : h.start + h.width]
        if h.kind == "sigmoid":
            p1 = 1.0 / (1.0 + np.exp(-s[:, 0]))
            p = np.stack([1.0 - p1, p1], axis=1)
        else:
            z = s - s.max(axis=1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(axis=1, keepdims=True)
        # never exactly 0, so the arg-max (the head's best guess) survives the shrinking
        reliability = np.sqrt(np.clip(batch.n_words / 3.0, 1e-4, 1.0))[:, None]
        uniform = 1.0 / p.shape[1]
        return uniform + (p - uniform) * reliability

    def _offensive_proba(self, batch: _Batch) -> np.ndarray:
        """Offensive head probabilities, raised to LEXICON_CONFIDENCE for lexicon insults."""
        p = self._proba(batch, "offensive")
        hit = self._flag_counts(batch, _INSULT) > 0
        yes = self.heads["offensive"].classes.index("yes")
        p[hit, yes] = np.maximum(p[hit, yes], LEXICON_CONFIDENCE)
        p[hit, 1 - yes] = 1.0 - p[hit, yes]
        return p

    def _flag_counts(self, batch: _Batch, bit: int) -> np.ndarray:
        """Per-document count of tokens whose type has flag ``bit``."""
        n = len(batch.norm)
        hit = (self._flags[batch.ids] & bit) > 0
        return np.bincount(batch.doc, weights=hit, minlength=n)

    def _language(self, batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
        """Language index into the head's classes and its confidence, with script rules."""
        h = self.heads["language"]
        p = self._proba(batch, "language")
        idx = p.argmax(axis=1)
        conf = p.max(axis=1)
        nonlatin = self._flag_counts(batch, _NONLATIN)
        other = h.classes.index("other")
        mostly_foreign = (batch.n_words > 0) & (nonlatin * 2 > batch.n_words)
        idx[mostly_foreign] = other
        conf[mostly_foreign] = 0.9
        # Without words (mentions, emoji, URLs only) keep the head's best guess — mentions
        # and emoji still carry a prior — but with near-uniform confidence.
        no_words = batch.n_words == 0
        conf[no_words] = np.minimum(conf[no_words], 1.0 / len(h.classes) + 0.01)
        # Batch prior: texts that cannot be told (no words, or a weak 'other' on one or two
        # words) take the language most texts of the batch were confidently given.
        unsure = no_words | ((idx == other) & (conf < 0.6) & (batch.n_words <= 2))
        sure = ~unsure & (conf >= 0.8)
        if unsure.any() and sure.sum() >= 20:
            counts = np.bincount(idx[sure], minlength=len(h.classes))
            idx[unsure] = int(counts.argmax())
        return idx, conf

    def _sentiment(self, batch: _Batch, is_es: np.ndarray) -> np.ndarray:
        """Sentiment probabilities from the English or Spanish head, by detected language."""
        p_en = self._proba(batch, "sentiment_en")
        p_es = self._proba(batch, "sentiment_es")
        return np.where(is_es[:, None], p_es, p_en)

    def _all(self, batch: _Batch) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
        """Every label: (class index, confidence, classes) per document."""
        out: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}
        lang_idx, lang_conf = self._language(batch)
        lang_classes = list(self.heads["language"].classes)
        out["language"] = (lang_idx, lang_conf, lang_classes)
        is_es = lang_idx == lang_classes.index("es")
        sent = self._sentiment(batch, is_es)
        sent_classes = list(self.heads["sentiment_en"].classes)
        out["sentiment"] = (sent.argmax(axis=1), sent.max(axis=1), sent_classes)
        for name in ("complaint", "offensive", "reason"):
            p = self._offensive_proba(batch) if name == "offensive" else self._proba(batch, name)
            out[name] = (p.argmax(axis=1), p.max(axis=1), list(self._classes(name)))
        comp_p = self._proba(batch, "complaint")[:, 1]
        neg = sent[:, sent_classes.index("negative")]
        pos = sent[:, sent_classes.index("positive")]
        lead = self._leading_question(batch)
        intent, iconf = decide_intent(
            comp_p, neg, pos,
            self._flag_counts(batch, _REQUEST), self._flag_counts(batch, _QMARK), lead,
            self._flag_counts(batch, _PROMO), self._flag_counts(batch, _URL),
        )
        out["intent"] = (intent, iconf, list(INTENT_NAMES))
        return out

    def _leading_question(self, batch: _Batch) -> np.ndarray:
        """Whether the first word token (after mentions) of each document is a question word."""
        n = len(batch.norm)
        flags = self._flags[batch.ids]
        is_word = (flags & _WORD) > 0
        words_doc = batch.doc[is_word]
        first = np.zeros(n, dtype=bool)
        if len(words_doc):
            starts = np.flatnonzero(np.r_[True, words_doc[1:] != words_doc[:-1]])
            first[words_doc[starts]] = (flags[is_word][starts] & _QWORD) > 0
        return first

    def _classes(self, name: str) -> tuple[str, ...]:
        """Class names of a head."""
        return self.heads[name].classes

    # ------------------------------------------------------------- public API
    def label_batch(
        self, texts: Sequence[str], labels: Sequence[str] = ("sentiment", "complaint")
    ) -> dict[str, np.ndarray]:
        """Fast path: arrays of label strings for ``labels`` (any of ALL_LABELS)."""
        unknown = set(labels) - set(ALL_LABELS)
        if unknown:
            raise ValueError(f"unknown labels: {sorted(unknown)}")
        if not texts:
            return {name: np.array([], dtype=object) for name in labels}
        batch = self._score(texts)
        out: dict[str, np.ndarray] = {}
        if set(labels) <= {"complaint", "offensive", "reason"}:
            for name in labels:
                classes = np.array(self._classes(name), dtype=object)
                p = self._offensive_proba(batch) if name == "offensive" else self._proba(batch, name)
                out[name] = classes[p.argmax(axis=1)]
            return out
        everything = self._all(batch)
        for name in labels:
            idx, _conf, names = everything[name]
            out[name] = np.array(names, dtype=object)[idx]
        return out

    def reason_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
        """Reason probabilities (docs x codes) so callers can restrict the label space."""
        batch = self._score(texts)
        return self._proba(batch, "reason"), self._classes("reason")

    def predict(self, texts: Sequence[str]) -> list[TriageResult]:
        """Full triage of every text: labels with confidence and evidence, urgency cues."""
        cols = self.predict_batch(texts)
        values, conf, evidence = cols.values, cols.confidence, cols.evidence
        version = cols.model_version

        def labels(name: str) -> list[Label]:
            return [Label(v, c, tuple(e))  # type: ignore[arg-type]
                    for v, c, e in zip(values[name], conf[name], evidence[name], strict=True)]

        language, complaint, sentiment, offensive, intent = (
            labels(name) for name in ("language", "complaint", "sentiment", "offensive", "intent"))
        reason = [None if v is None else Label(v, c, tuple(e))  # type: ignore[arg-type]
                  for v, c, e in zip(values["reason"], conf["reason"], evidence["reason"],
                                     strict=True)]
        return [
            TriageResult(language=language[i], complaint=complaint[i], sentiment=sentiment[i],
                         reason=reason[i], offensive=offensive[i], intent=intent[i],
                         urgency=cols.urgency[i], model_version=version)
            for i in range(len(cols))
        ]

    def predict_batch(self, texts: Sequence[str]) -> TriageBatch:
        """What :meth:`predict` says, as columns: no per-text objects (for bulk storing)."""
        if not texts:
            return TriageBatch({name: [] for name in ALL_LABELS},
                               {name: [] for name in ALL_LABELS},
                               {name: [] for name in ALL_LABELS}, [], self.version)
        batch = self._score(texts)
        everything = self._all(batch)
        n = len(texts)
        lang_idx = everything["language"][0]
        is_es = lang_idx == everything["language"][2].index("es")
        evidence: dict[str, list[list[str] | None]] = {}
        for name in ("language", "complaint", "offensive", "reason"):
            h = self.heads[name]
            contrib = self._contributions(batch, h, everything[name][0])
            evidence[name] = self._evidence_lists(batch, contrib)  # type: ignore[assignment]
        sent_idx = everything["sentiment"][0]
        # each text's sentiment evidence comes from the head of its language
        en = self._contributions(batch, self.heads["sentiment_en"], sent_idx)
        es = self._contributions(batch, self.heads["sentiment_es"], sent_idx)
        contrib = np.where(is_es[batch.doc], es, en) if len(batch.ids) else en
        evidence["sentiment"] = self._evidence_lists(batch, contrib)  # type: ignore[assignment]
        evidence["intent"] = [[] for _ in range(n)]
        values: dict[str, list[str | None]] = {}
        confidence: dict[str, list[float | None]] = {}
        for name, (idx, conf, classes) in everything.items():
            values[name] = np.array(classes, dtype=object)[idx].tolist()
            confidence[name] = [round(c, 4) for c in conf.tolist()]
        sent_classes = everything["sentiment"][2]
        comp_classes = everything["complaint"][2]
        has_reason = ((everything["complaint"][0] == comp_classes.index("yes"))
                      | (sent_idx == sent_classes.index("negative")))
        if not has_reason.all():
            for i in np.flatnonzero(~has_reason).tolist():
                values["reason"][i] = confidence["reason"][i] = evidence["reason"][i] = None
        clean = [t if isinstance(t, str) else F.clean_text(t) for t in texts]
        urgency = find_urgency_batch([t[: F.MAX_CHARS] for t in clean])
        return TriageBatch(values, confidence, evidence, urgency, self.version)

    def _contributions(self, batch: _Batch, head: Head, chosen: np.ndarray) -> np.ndarray:
        """How much each token pushed its document towards the chosen class of ``head``."""
        if not len(batch.ids):
            return np.zeros(0)
        s = self._scores[batch.ids, head.start : head.start + head.width]
        if head.kind == "sigmoid":
            sign = np.where(chosen[batch.doc] == 1, 1.0, -1.0)
            contrib: np.ndarray = s[:, 0] * sign
        else:
            own = s[np.arange(len(batch.ids)), chosen[batch.doc]]
            contrib = own - s.mean(axis=1)
        return contrib

    def _evidence(self, batch: _Batch, head: Head, chosen: np.ndarray) -> list[tuple[str, ...]]:
        """Up to EVIDENCE_WORDS tokens per document that pushed most towards the chosen class."""
        return [tuple(e) for e in
                self._evidence_lists(batch, self._contributions(batch, head, chosen))]

    def _evidence_lists(self, batch: _Batch, contrib: np.ndarray) -> list[list[str]]:
        """Per document, the display forms (no repeats) of its up to EVIDENCE_WORDS tokens
        with the largest contribution above 1% of its norm, largest first."""
        n = len(batch.norm)
        if not len(batch.ids):
            return [[] for _ in range(n)]
        # only tokens above the threshold can be picked, and they rank first in their
        # document, so ranking just them gives the same picks (and sorts far fewer)
        strong = np.flatnonzero(contrib > 0.01 * batch.norm[batch.doc])
        # strongest first within each document, ties in token order: a stable sort on the
        # contribution, then a stable sort on the document (the order `lexsort` gives; the
        # document sort is a radix sort on small integers)
        by_strength = strong[np.argsort(-contrib[strong], kind="stable")]
        docs = batch.doc[by_strength]
        if n < 32_768:
            docs = docs.astype(np.int16)
        order = by_strength[np.argsort(docs, kind="stable")]
        d = batch.doc[order]
        keep = (np.arange(len(order)) - np.searchsorted(d, d)) < EVIDENCE_WORDS
        picked = order[keep]  # grouped by document, strongest first
        pdoc = d[keep]
        if not len(picked):
            return [[] for _ in range(n)]
        # display forms by type id: each type's form is worked out once per process
        displays = batch.displays if batch.displays is not None else self._displays
        tids = batch.ids[picked]
        codes = displays.code[tids]
        unknown = codes < 0
        if unknown.any():
            with self._lock:
                fresh = np.flatnonzero(unknown)
                tokens = batch.tokens
                displays.learn(tids[fresh], [tokens[j] for j in picked[fresh].tolist()])
            codes = displays.code[tids]
        # a form repeated within a document (a word twice, `delayed` and `delayed!`) counts once
        repeat = np.zeros(len(picked), dtype=bool)
        for back in range(1, EVIDENCE_WORDS):
            repeat[back:] |= (pdoc[back:] == pdoc[:-back]) & (codes[back:] == codes[:-back])
        if repeat.any():
            codes = codes[~repeat]
            pdoc = pdoc[~repeat]
        flat = displays.array[codes].tolist()
        bounds = np.searchsorted(pdoc, np.arange(n + 1)).tolist()
        return [flat[a:b] for a, b in pairwise(bounds)]

    # ---------------------------------------------------------- online update
    def update(self, label: str, texts: Iterable[str], values: Iterable[str],
               steps: int = 5, learning_rate: float = 0.5) -> None:
        """Adapt one head to agents' corrections with a few SGD steps on the log-loss.

        ``label`` is a head name (``sentiment`` updates the head of each text's language);
        only features the model already knows are updated.
        """
        texts = list(texts)
        values = [str(v) for v in values]
        if label == "reason":
            values = [reason_code(v) for v in values]
        if len(texts) != len(values):
            raise ValueError("texts and values differ in length")
        if not texts:
            return
        if label == "sentiment":
            langs = self.label_batch(texts, ("language",))["language"]
            for lang, head in (("es", "sentiment_es"), (None, "sentiment_en")):
                sel = [i for i, v in enumerate(langs) if (v == "es") == (lang == "es")]
                if sel:
                    self.update(head, [texts[i] for i in sel], [values[i] for i in sel],
                                steps, learning_rate)
            return
        if label not in self.heads:
            raise ValueError(f"unknown head {label!r}")
        h = self.heads[label]
        unknown = {v for v in values if v not in h.classes}
        if h.kind == "softmax" and unknown:
            raise ValueError(f"unknown {label} values: {sorted(unknown)}")
        x = self.features(texts)
        if h.kind == "sigmoid":
            y = np.array([[1.0 if v == "yes" else 0.0] for v in values])
        else:
            idx = [h.classes.index(v) for v in values]
            y = np.zeros((len(values), h.width))
            y[np.arange(len(values)), idx] = 1.0
        cols = slice(h.start, h.start + h.width)
        for _ in range(steps):
            s = np.asarray(x @ self.theta[:, cols]) + self.bias[None, cols]
            if h.kind == "sigmoid":
                p = 1.0 / (1.0 + np.exp(-s))
            else:
                e = np.exp(s - s.max(axis=1, keepdims=True))
                p = e / e.sum(axis=1, keepdims=True)
            g = (p - y) / len(values)
            self.theta[:, cols] -= (learning_rate * (x.T @ g)).astype(np.float32)
            self.bias[cols] -= learning_rate * 0.1 * g.sum(axis=0)
        self.theta[0] = 0.0
        with self._lock:
            self._updates += 1
            self._table = None  # precomputed rows are stale after an update
            self._table_index = {}
            self._reset_cache()
        base = self.version.split("+")[0]
        self.version = f"{base}+u{self._updates}"

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Normalised document x compact-feature matrix (for updates and inspection)."""
        batch = self._score(texts)
        n = len(texts)
        rows = F.type_rows(batch.tokens) if batch.tokens else None
        width = self.theta.shape[0]
        if rows is None:
            return sp.csr_matrix((n, width))
        w = self._weighted_rows(rows.matrix)
        tok_to_doc = sp.csr_matrix(
            (np.ones(len(batch.doc)), (batch.doc, np.arange(len(batch.doc)))),
            shape=(n, len(batch.doc)),
        )
        uni = tok_to_doc @ w
        bdoc, bcol = F.bigram_features(rows.keys, batch.doc)
        bc = self._remap[bcol]
        bval = F.BIGRAM_WEIGHT * self.idf[bc].astype(np.float64)
        big = sp.csr_matrix((bval, (bdoc, bc)), shape=(n, width))
        x: sp.csr_matrix = (sp.diags(1.0 / batch.norm) @ (uni + big)).tocsr()
        return x

    # ------------------------------------------------------------ persistence
    def build_type_table(self, texts: Sequence[str], min_count: int = 2) -> int:
        """Precompute rows of sub-tokens seen ``min_count`` times in ``texts``; return count."""
        tokens, _doc = F.tokenize_batch([F.clean_text(t) for t in texts])
        counts: Counter[str] = Counter()
        for chunk, c in Counter(tokens).items():
            for sub in chunk_subtokens(chunk):
                counts[sub] += c
        frequent = [t for t, c in counts.items() if c >= min_count]
        self._table = None
        self._table_index = {}
        self._reset_cache()
        self._add_subtokens(frequent)
        ids = np.arange(len(frequent))
        self._table = {
            "hashes": F.string_keys(frequent),
            "scores": self._sub_scores[ids].astype(np.float32),
            "sq": self._sub_sq[ids].astype(np.float32),
            "keys": self._sub_keys[ids].copy(),
            "named": self._sub_named[ids].copy(),
            "flags": self._sub_flags[ids].astype(np.int16),
        }
        self._table_flags_ok = True
        self.meta["flags_digest"] = FLAGS_DIGEST
        self._table_index = dict(
            zip(self._table["hashes"].tolist(), range(len(frequent)), strict=True)
        )
        self._reset_cache()
        return len(frequent)

    def save(self, path: Path) -> None:
        """Write ``triage.npz`` and ``triage.json`` into the directory ``path``."""
        path.mkdir(parents=True, exist_ok=True)
        F.save_lexicon(F.current_lexicon(), path / "lexicon.npz")
        if self._table is not None:
            t = self._table
            np.savez_compressed(path / "types.npz", hashes=t["hashes"], scores=t["scores"],
                                sq=t["sq"], keys=t["keys"], named=t["named"],
                                flags=t["flags"])
        elif (path / "types.npz").exists():
            (path / "types.npz").unlink()
        np.savez_compressed(
            path / "triage.npz",
            used=self.used.astype(np.int32),
            idf=self.idf[1:].astype(np.float16),
            theta=self.theta[1:].astype(np.float16),
            bias=self.bias,
        )
        meta = dict(self.meta)
        meta["version"] = self.version
        meta["heads"] = [
            {"name": h.name, "classes": list(h.classes), "start": h.start, "kind": h.kind}
            for h in self.heads.values()
        ]
        (path / "triage.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> Triager:
        """Read artefacts written by :meth:`save`."""
        meta = json.loads((path / "triage.json").read_text())
        # the polarity lexicon is part of the featuriser (process-wide, like the regexes)
        F.set_lexicon(F.load_lexicon(path / "lexicon.npz"))
        with np.load(path / "triage.npz") as z:
            used, idf, theta, bias = z["used"], z["idf"], z["theta"], z["bias"]
        heads = [Head(h["name"], tuple(h["classes"]), int(h["start"]), h["kind"])
                 for h in meta["heads"]]
        table = None
        if (path / "types.npz").exists():
            with np.load(path / "types.npz") as z:
                table = {k: z[k] for k in z.files}
        return cls(used, idf, theta, bias, heads, str(meta["version"]), meta, table)


@lru_cache(maxsize=4)
def _load_cached(path: Path) -> Triager:
    """Load once per path and process."""
    return Triager.load(path)


def load_triager(path: Path | None = None) -> Triager:
    """The triager from ``path`` (default: the shipped artefacts), cached per process."""
    return _load_cached((path or ARTIFACTS_DIR).resolve())


def timed_load(path: Path | None = None) -> tuple[Triager, float]:
    """Load artefacts without the cache and return (triager, seconds)."""
    start = time.perf_counter()
    t = Triager.load((path or ARTIFACTS_DIR).resolve())
    return t, time.perf_counter() - start
