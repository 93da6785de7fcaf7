"""The survey page's words, in the customer's language (the case's), not the visitor's browser's.

They are customer-facing content like the playbook templates, so they live here in both
languages rather than in the staff UI's gettext catalog.
"""

from __future__ import annotations

SURVEY_TEXT: dict[str, dict[str, str]] = {
    "es": {
        "title": "¿Cómo lo hicimos?",
        "intro": "Gracias por darnos la oportunidad de resolverlo. ¿Qué tal fue la atención de {brand}?",
        "score": "Tu valoración, de 1 (muy mal) a 5 (muy bien)",
        "labels": "1 muy mal|2 mal|3 regular|4 bien|5 muy bien",
        "comment": "¿Quieres contarnos algo más? (opcional)",
        "send": "Enviar",
        "invalid": "Elige una valoración del 1 al 5.",
        "thanks": "¡Gracias! Hemos recibido tu valoración.",
        "thanks_low": "Sentimos que no haya ido bien. Hemos reabierto tu caso y alguien del equipo te escribirá.",
        "answered": "Esta encuesta ya se respondió. Solo se admite una respuesta por enlace: ¡gracias!",
        "expired": "Este enlace de encuesta ya no está activo. Si necesitas algo, escríbenos por el canal habitual.",
        "not_found": "No encontramos esta encuesta. Revisa que el enlace esté completo.",
    },
    "en": {
        "title": "How did we do?",
        "intro": "Thank you for giving us the chance to sort it out. How was the help you got from {brand}?",
        "score": "Your rating, from 1 (very poor) to 5 (very good)",
        "labels": "1 very poor|2 poor|3 fair|4 good|5 very good",
        "comment": "Anything else you'd like to tell us? (optional)",
        "send": "Send",
        "invalid": "Please choose a rating from 1 to 5.",
        "thanks": "Thank you! We have received your rating.",
        "thanks_low": "We're sorry it didn't go well. We have reopened your case and someone will write to you.",
        "answered": "This survey has already been answered. Each link takes one answer only: thank you!",
        "expired": "This survey link is no longer active. If you need anything, write to us the usual way.",
        "not_found": "We couldn't find this survey. Please check the link is complete.",
    },
}


def survey_text(language: str) -> dict[str, str]:
    """The survey's words in ``language`` (Spanish when it is neither es nor en)."""
    return SURVEY_TEXT.get(language, SURVEY_TEXT["es"])
