"""Intent: wants_fix / wants_heard / question / praise / spam, by rules over model outputs.

There is no labelled intent data, so intent combines the trained heads (complaint,
sentiment) with word lists checked once per token type:

Request words are matched as whole words (``REQUEST_WORDS``) or by stem
(``REQUEST_STEMS``: solucion-, arregl-, devuelv-, reembols-, refund-...).

1. spam: a link or promo words, several promo words, and not a complaint;
2. praise: positive sentiment and not a complaint;
3. wants_fix: a complaint (or negative post) with a request word
   (fix, refund, help, solucionen, devuelvan, ayuda...) or a question;
4. question: a question mark or a leading question word without a complaint;
5. wants_heard: a complaint or negative post without any request (venting);
   neutral statements also fall here, with low confidence.
"""

from __future__ import annotations

import numpy as np

REQUEST_WORDS = frozenset(
    [
        "fix", "fixed", "refund", "refunds", "reimburse", "reimbursement", "compensate",
        "compensation", "help", "helps", "solve", "resolve", "sort", "replace",
        "replacement", "return", "cancel", "rebook", "dm", "contact", "call", "respond",
        "answer", "reply", "please", "pls", "plz", "need", "want", "waiting", "expect",
        "solucionen", "solucionad", "solucionar", "soluciónenlo", "solución", "arreglen",
        "arreglar", "arreglad", "devuelvan", "devolved", "devolución", "reembolso",
        "reembolsen", "indemnización", "indemnicen", "compensación", "ayuda", "ayuden",
        "ayudadme", "ayúdenme", "ayudar", "necesito", "quiero", "exijo", "exigimos",
        "reclamo", "pido", "solicito", "contesten", "respondan", "llamen", "atiendan",
        "resuelvan", "cambien", "reponer", "sustituyan"
    ]
)
REQUEST_STEMS: tuple[str, ...] = (
    "solucion", "arregl", "devuelv", "devolv", "reembols", "compens", "indemni", "ayud",
    "refund", "reimburs", "compensat", "replac", "rebook", "resolv",
)
QUESTION_WORDS = frozenset(
    [
        "what", "when", "where", "why", "how", "who", "which", "can", "could", "is", "are",
        "do", "does", "will", "would", "should", "qué", "que", "cuándo", "cuando", "dónde",
        "donde", "por", "cómo", "como", "quién", "cuál", "cuánto", "cuánta", "puedo",
        "pueden", "podéis", "se", "sabe", "hay"
    ]
)
PROMO_WORDS = frozenset(
    [
        "free", "win", "winner", "giveaway", "promo", "discount", "deal", "deals", "offer",
        "offers", "click", "followers", "bitcoin", "crypto", "earn", "cash", "prize",
        "sale", "coupon", "subscribe", "gratis", "gana", "ganar", "sorteo", "promoción",
        "descuento", "oferta", "ofertas", "regalo", "premio", "cupón", "seguidores",
        "suscríbete"
    ]
)

INTENT_NAMES: tuple[str, ...] = ("wants_fix", "wants_heard", "question", "praise", "spam")


def decide_intent(
    complaint_p: np.ndarray,
    negative_p: np.ndarray,
    positive_p: np.ndarray,
    requests: np.ndarray,
    questions: np.ndarray,
    leading_question: np.ndarray,
    promos: np.ndarray,
    urls: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised intent rules; returns (intent index into INTENT_NAMES, confidence)."""
    n = len(complaint_p)
    complaint = complaint_p >= 0.5
    grievance = complaint | (negative_p >= 0.6)
    asks = (questions > 0) | leading_question
    intent = np.full(n, 1, dtype=np.int64)
    conf = np.full(n, 0.4)
    # wants_heard: venting (default), confidence grows with the grievance.
    heard = grievance & (requests == 0) & ~asks
    conf[heard] = 0.5 + 0.4 * np.maximum(complaint_p, negative_p)[heard]
    # question without a grievance
    q = asks & ~grievance
    intent[q] = 2
    conf[q] = 0.6 + 0.3 * (1 - complaint_p[q])
    # wants_fix: grievance plus a request or a question
    fix = grievance & ((requests > 0) | asks)
    intent[fix] = 0
    conf[fix] = 0.55 + 0.1 * np.minimum(requests[fix], 3) + 0.1 * complaint_p[fix]
    # praise
    praise = (positive_p >= 0.5) & ~complaint & ~fix
    intent[praise] = 3
    conf[praise] = positive_p[praise]
    # spam
    spam = ((promos >= 2) | ((promos >= 1) & (urls >= 1))) & ~complaint
    intent[spam] = 4
    conf[spam] = 0.6 + 0.1 * np.minimum(promos[spam], 3)
    return intent, np.clip(conf, 0.0, 0.99)
