"""One featuriser shared by every triage head.

A text becomes a bag of *token types* (case-sensitive words, mentions, numbers,
emoji, emoticons, runs of ! and ?, URLs). Each type expands once into hashed
features: its lower-cased word, its in-word character n-grams (2-5, with word
boundary marks) and a few shape flags (ALL CAPS, elongated). Consecutive tokens
add hashed word bigrams. Feature values are scaled by IDF and each document is
divided by its norm, defined as ``sqrt(sum over tokens |type row|^2 + sum over
bigrams idf^2)`` where a token's squared row norm is the sum of its
sub-tokens' squared norms — the same definition at training and at prediction time, so a
document's scores are ``(counts @ type_scores + bigrams @ weights) / norm``:
prediction never materialises the big sparse matrix, it only looks up one
score row per token type (cached) and one weight row per bigram.
"""

from __future__ import annotations

import html
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HASH_BITS = 20
N_FEATURES = 1 << HASH_BITS
MAX_CHARS = 2000
"""Texts are cut to this many characters before featurisation (a 1 MB post costs no more)."""

LEXICON_PATH = Path(__file__).resolve().parent / "artifacts" / "lexicon.npz"
LEXICON_WEIGHT = 0.5
"""Scale of the polarity-lexicon features (valence / 4, as ``<lex+>`` or ``<lex->``)."""

CHAR_NGRAMS = (2, 3, 4, 5)
CHAR_WEIGHT = 0.35
BIGRAM_WEIGHT = 0.8

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1_000_003)
_SHIFT = np.uint64(64 - HASH_BITS)

TOKEN_RE = re.compile(
    r"https?://\S+|www\.\S+"
    r"|[@＠]\w+"
    r"|[^\W\d_]+(?:['’][^\W\d_]+)*"
    r"|\d+(?:[.,:]\d+)*"
    r"|[:;=][\-o\*']?[\)\]\(\[dDpP/\\|3]|<3"
    r"|[!?¡¿]+"
    r"|[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]"
)
TAG_RE = re.compile(r"<[^>]{0,200}>")
_ELONGATED_RE = re.compile(r"(.)\1{2,}")


def clean_text(text: object) -> str:
    """Return a safe, bounded text: str, at most MAX_CHARS, no HTML tags or entities."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    if "<" in text:
        text = TAG_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


_LEXICON: dict[int, float] = {}


def set_lexicon(valence: dict[int, float]) -> None:
    """Install the polarity lexicon: ``string_key(word)`` -> valence in [-4, 4]."""
    _LEXICON.clear()
    _LEXICON.update(valence)


def current_lexicon() -> dict[int, float]:
    """A copy of the installed polarity lexicon."""
    return dict(_LEXICON)


def lexicon_from_words(words: dict[str, float]) -> dict[int, float]:
    """Key a word -> valence mapping by the hashed normal form of each word."""
    out: dict[int, float] = {}
    for word, v in words.items():
        if split_chunk(word) == [word]:
            kind, norm = subtoken_info(word)
            if kind in ("word", "symbol"):
                out[string_key(norm)] = float(v)
    return out


def load_lexicon(path: Path = LEXICON_PATH) -> dict[int, float]:
    """The shipped lexicon (hashed words and valences); empty when there is none."""
    if not path.exists():
        return {}
    with np.load(path) as z:
        return dict(zip(z["keys"].tolist(), z["valence"].astype(np.float64).tolist(),
                        strict=True))


def save_lexicon(valence: dict[int, float], path: Path = LEXICON_PATH) -> None:
    """Write a hashed lexicon (no strings) next to the other artefacts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = np.array(sorted(valence), dtype=np.uint64)
    np.savez_compressed(path, keys=keys,
                        valence=np.array([valence[int(k)] for k in keys], dtype=np.float16))


def tokenize_batch(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Split cleaned texts on whitespace; return the chunks and each chunk's document index.

    A chunk (``flight!!``, ``@united's``, ``http://t.co/x``) is the unit that is looked up
    in the type cache; its features are those of the sub-tokens ``TOKEN_RE`` finds in it.
    """
    parts = [t.split() for t in texts]
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    tokens = list(chain.from_iterable(parts))
    return tokens, np.repeat(np.arange(len(parts), dtype=np.int64), lengths)


def _mix(values: np.ndarray) -> np.ndarray:
    """Map 64-bit keys to feature indices by multiplicative hashing."""
    with np.errstate(over="ignore"):
        return ((values * _GOLDEN) >> _SHIFT).astype(np.int64)


def string_key(text: str) -> int:
    """A stable 64-bit key for a string (two CRC32s; Python's hash() is salted)."""
    raw = text.encode("utf-8", "surrogatepass")
    return (zlib.crc32(raw) << 32) | zlib.crc32(raw, 0x5BD1E995)


_POW_MAX = 4096
_POWERS = np.ones(_POW_MAX, dtype=np.uint64)
with np.errstate(over="ignore"):
    for _i in range(1, _POW_MAX):
        _POWERS[_i] = _POWERS[_i - 1] * _PRIME


def string_keys(texts: Sequence[str]) -> np.ndarray:
    """Stable 64-bit keys of many non-empty strings at once (vectorised polynomial hash).

    Used to look chunks' sub-tokens up in the shipped type table: one numpy pass instead
    of a Python call per string. Strings longer than 4,096 code points hash their tail.
    """
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    cp = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    exponent = np.repeat(ends - 1, lengths) - np.arange(len(cp), dtype=np.int64)
    exponent = np.minimum(exponent, _POW_MAX - 1)
    with np.errstate(over="ignore"):
        terms = (cp.astype(np.uint64) + np.uint64(0x9E37)) * _POWERS[exponent]
        h = np.add.reduceat(terms, starts) ^ (lengths.astype(np.uint64) * _GOLDEN)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(29)
    out: np.ndarray = h
    return out


def token_kind(token: str) -> str:
    """Classify a token: url, mention, word, number or symbol."""
    first = token[0]
    if first in "@＠":
        return "mention"
    if token.startswith(("http://", "https://", "www.")):
        return "url"
    if first.isdigit():
        return "number"
    if first.isalpha():
        return "word"
    return "symbol"


def _normal_form(token: str, kind: str) -> str:
    """The lower-cased, de-elongated spelling that names a token's word feature."""
    if kind == "url":
        return "<url>"
    if kind == "number":
        return "<num>" if len(token) > 2 else token
    if kind == "symbol" and token[0] in "!?¡¿":
        return "".join(sorted(set(token.replace("¡", "!").replace("¿", "?"))))[:2] + (
            "+" if len(token) > 1 else ""
        )
    low = token.lower()
    if _ELONGATED_RE.search(low) is None:
        return low
    return _ELONGATED_RE.sub(r"\1\1", low)


_SUB_INFO: dict[str, tuple[str, str]] = {}
_SUB_INFO_MAX = 300_000


def subtoken_info(token: str) -> tuple[str, str]:
    """(kind, normal form) of a sub-token, memoised (sub-tokens recur across chunks)."""
    info = _SUB_INFO.get(token)
    if info is None:
        kind = token_kind(token)
        info = (kind, _normal_form(token, kind))
        if len(_SUB_INFO) >= _SUB_INFO_MAX:
            _SUB_INFO.clear()
        _SUB_INFO[token] = info
    return info


def split_chunk(chunk: str) -> list[str]:
    """Sub-tokens of a chunk; a purely alphabetic chunk is its own single sub-token."""
    if chunk.isalpha():
        return [chunk]
    subs: list[str] = TOKEN_RE.findall(chunk)
    return subs


@dataclass(frozen=True, slots=True)
class TypeRows:
    """Hashed raw features of chunk types (rows), bigram keys and each chunk's sub-tokens.

    ``sub_matrix`` holds the raw rows of the distinct sub-tokens and ``assign`` (chunks x
    sub-tokens) their multiplicity in each chunk: ``matrix == assign @ sub_matrix``.
    """

    matrix: sp.csr_matrix
    keys: np.ndarray
    subtokens: list[list[str]]
    sub_matrix: sp.csr_matrix | None = None
    assign: sp.csr_matrix | None = None


def subtoken_rows(types: Sequence[str]) -> TypeRows:
    """Expand sub-tokens into raw (un-weighted by IDF) hashed feature rows, vectorised."""
    n = len(types)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    keys = np.empty(n, dtype=np.uint64)
    flag_rows: list[int] = []
    flag_cols: list[int] = []
    flag_vals: list[float] = []
    lex = _LEXICON
    lex_pos, lex_neg = string_key("<lex+>"), string_key("<lex->")
    padded: list[str] = []
    padded_rows: list[int] = []
    for i, tok in enumerate(types):
        kind, norm = subtoken_info(tok)
        key = string_key(norm)
        keys[i] = key
        if kind == "word":
            padded.append(" " + norm + " ")
            padded_rows.append(i)
            if len(tok) > 1 and tok.isupper():
                flag_rows.append(i)
                flag_cols.append(string_key("<caps>"))
                flag_vals.append(0.5)
            if norm != tok.lower():
                flag_rows.append(i)
                flag_cols.append(string_key("<elong>"))
                flag_vals.append(0.5)
        elif kind == "mention":
            flag_rows.append(i)
            flag_cols.append(string_key("<mention>"))
            flag_vals.append(0.5)
        if lex and kind in ("word", "symbol"):
            v = lex.get(key)
            if v:
                flag_rows.append(i)
                flag_cols.append(lex_pos if v > 0 else lex_neg)
                flag_vals.append(LEXICON_WEIGHT * abs(v) / 4.0)
    word_cols = _mix(keys)
    rows.append(np.arange(n, dtype=np.int64))
    cols.append(word_cols)
    vals.append(np.ones(n, dtype=np.float64))
    if flag_rows:
        rows.append(np.asarray(flag_rows, dtype=np.int64))
        cols.append(_mix(np.asarray(flag_cols, dtype=np.uint64)))
        vals.append(np.asarray(flag_vals, dtype=np.float64))
    if padded:
        r, c = _char_ngrams(padded)
        rows.append(np.asarray(padded_rows, dtype=np.int64)[r])
        cols.append(c)
        vals.append(np.full(len(c), CHAR_WEIGHT))
    matrix = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n, N_FEATURES),
    )
    matrix.sum_duplicates()
    return TypeRows(matrix=matrix, keys=keys, subtokens=[[t] for t in types])


def chunk_display(chunk: str) -> str:
    """A chunk without surrounding punctuation, for showing as evidence."""
    stripped = chunk.strip(".,;:!?¡¿\"'()[]{}«»“”‘’*-_")
    return (stripped or chunk)[:40]


def type_rows(chunks: Sequence[str]) -> TypeRows:
    """Raw hashed feature rows of whitespace chunks (sum of their sub-tokens' rows).

    A chunk's bigram key names its words (or, without words, its symbols), so
    ``flight!!`` and ``flight`` make the same bigrams.
    """
    sub_index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    keys = np.empty(len(chunks), dtype=np.uint64)
    all_subs: list[list[str]] = []
    info = subtoken_info
    for i, chunk in enumerate(chunks):
        subs = split_chunk(chunk)
        all_subs.append(subs)
        names: list[str] = []
        for sub in subs:
            rows.append(i)
            cols.append(sub_index.setdefault(sub, len(sub_index)))
            kind, norm = info(sub)
            if kind in ("word", "mention", "number"):
                names.append(norm)
        if not names:
            names = [info(sub)[1] for sub in subs]
        keys[i] = string_key(" ".join(names))
    sub_rows = subtoken_rows(list(sub_index))
    assign = sp.csr_matrix(
        (np.ones(len(rows)), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(len(chunks), len(sub_index)),
    )
    matrix: sp.csr_matrix = (assign @ sub_rows.matrix).tocsr()
    return TypeRows(matrix=matrix, keys=keys, subtokens=all_subs, sub_matrix=sub_rows.matrix,
                    assign=assign.tocsr())


def chunk_sq(rows: TypeRows, idf: np.ndarray) -> np.ndarray:
    """Each chunk's contribution to the squared document norm: the sum over its sub-tokens
    of their squared IDF-weighted row norms (so a chunk's value is additive in sub-tokens)."""
    assert rows.sub_matrix is not None and rows.assign is not None
    w = rows.sub_matrix @ sp.diags(idf)
    sq_sub = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    out: np.ndarray = rows.assign @ sq_sub
    return out


def _char_ngrams(padded: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashed character n-grams of each padded word: (word index, feature index) pairs."""
    joined = "\x00".join(padded)
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cp = cp.astype(np.uint64)
    is_zero = cp == 0
    word_of = np.cumsum(is_zero)
    zeros_before = np.concatenate(([0], word_of))
    out_r: list[np.ndarray] = []
    out_c: list[np.ndarray] = []
    with np.errstate(over="ignore"):
        for n in CHAR_NGRAMS:
            length = len(cp) - n + 1
            if length <= 0:
                continue
            h = cp[:length].copy()
            for j in range(1, n):
                h = h * _PRIME + cp[j : j + length]
            valid = (zeros_before[n : n + length] - zeros_before[:length]) == 0
            h = h[valid] ^ np.uint64(n * 0x51ED27)
            out_r.append(word_of[:length][valid])
            out_c.append(_mix(h + np.uint64(0x2545F491)))
    if not out_r:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_r).astype(np.int64), np.concatenate(out_c)


def bigram_features(keys: np.ndarray, doc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashed bigrams of consecutive tokens in the same document: (document, feature) pairs."""
    if len(keys) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    same = doc[1:] == doc[:-1]
    with np.errstate(over="ignore"):
        h = keys[:-1][same] * _PRIME ^ (keys[1:][same] + np.uint64(0x7F4A7C15))
    return doc[:-1][same], _mix(h)


def raw_matrix(texts: Sequence[str]) -> sp.csr_matrix:
    """Raw (no IDF, no norm) document x feature counts, used at training time for IDF."""
    clean = [clean_text(t) for t in texts]
    tokens, doc = tokenize_batch(clean)
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), dtype=np.int64,
                      count=len(tokens))
    rows = type_rows(list(vocab))
    counts = sp.csr_matrix((np.ones(len(ids)), (doc, ids)), shape=(len(texts), len(vocab)))
    uni = counts @ rows.matrix
    bdoc, bcol = bigram_features(rows.keys[ids], doc)
    big = sp.csr_matrix((np.full(len(bcol), BIGRAM_WEIGHT), (bdoc, bcol)),
                        shape=(len(texts), N_FEATURES))
    out: sp.csr_matrix = (uni + big).tocsr()
    return out


def weighted_matrix(texts: Sequence[str], idf: np.ndarray) -> sp.csr_matrix:
    """Document x feature matrix with IDF weights and the triage norm (training, updates)."""
    clean = [clean_text(t) for t in texts]
    tokens, doc = tokenize_batch(clean)
    n_docs = len(texts)
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), dtype=np.int64,
                      count=len(tokens))
    rows = type_rows(list(vocab))
    w = rows.matrix @ sp.diags(idf)
    sq_types = chunk_sq(rows, idf)
    counts = sp.csr_matrix((np.ones(len(ids)), (doc, ids)), shape=(n_docs, len(vocab)))
    uni = counts @ w
    bdoc, bcol = bigram_features(rows.keys[ids], doc)
    bval = BIGRAM_WEIGHT * idf[bcol]
    big = sp.csr_matrix((bval, (bdoc, bcol)), shape=(n_docs, N_FEATURES))
    sq = np.bincount(doc, weights=sq_types[ids], minlength=n_docs)
    sq += np.bincount(bdoc, weights=bval**2, minlength=n_docs)
    norm = np.sqrt(sq)
    norm[norm == 0] = 1.0
    out: sp.csr_matrix = (sp.diags(1.0 / norm) @ (uni + big)).tocsr()
    return out


def fit_idf(raw: sp.csr_matrix) -> np.ndarray:
    """Smoothed IDF per hashed feature from a raw count matrix (sklearn's formula)."""
    n = raw.shape[0]
    df = np.bincount(raw.indices, minlength=N_FEATURES)
    idf: np.ndarray = np.log((1.0 + n) / (1.0 + df)) + 1.0
    return idf


_LEXICON.update(load_lexicon())
