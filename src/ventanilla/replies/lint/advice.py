"""What each finding tells the agent: a short message and a constructive suggestion, es and en.

Texts are ours (written for ventanilla) and follow the complaint-handling playbook: thank, apologise
without excuses, move to a private channel, give a concrete next step and a time, never argue.
"""

from __future__ import annotations

# (rule, variant) -> language -> (message, suggestion)
ADVICE: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("rudeness", ""): {
        "es": (
            "Tono brusco, sarcástico o condescendiente.",
            "Quita el reproche y habla del problema, no de la persona: agradece, pide disculpas "
            "y di qué vas a hacer.",
        ),
        "en": (
            "Rude, sarcastic or condescending tone.",
            "Drop the put-down and talk about the problem, not the person: thank them, "
            "apologise and say what you will do.",
        ),
    },
    ("blaming", ""): {
        "es": (
            "Culpa o discute con el cliente.",
            "No busques culpables: reconoce lo que ha pasado y explica cómo lo vais a arreglar; "
            "si hay una condición que aplicar, ofrécete a revisarla en privado.",
        ),
        "en": (
            "Blames or argues with the customer.",
            "Don't look for someone to blame: acknowledge what happened and say how you'll put "
            "it right; if a policy applies, offer to go through it privately.",
        ),
    },
    ("justifying", ""): {
        "es": (
            "Se justifica en lugar de disculparse.",
            "En la primera respuesta, pide disculpas sin excusas; las explicaciones pueden ir "
            "después, en privado, si el cliente las pide.",
        ),
        "en": (
            "Makes excuses instead of apologising.",
            "In the first reply, apologise without excuses; explanations can come later, "
            "privately, if the customer wants them.",
        ),
    },
    ("justifying", "followup"): {
        "es": (
            "Explica causas; en un seguimiento puede estar bien si ayuda al cliente.",
            "Que la explicación sea breve y vaya detrás de la solución.",
        ),
        "en": (
            "Explains causes; fine in a follow-up if it helps the customer.",
            "Keep the explanation short and put it after the solution.",
        ),
    },
    ("impossible_promise", ""): {
        "es": (
            "Promete algo que no se puede garantizar.",
            "Promete solo lo que depende de ti y con fecha (p. ej. «te escribimos antes de 24 "
            "horas»); para el futuro, di qué cambiáis para evitar que se repita.",
        ),
        "en": (
            "Promises something nobody can guarantee.",
            "Only promise what you control, with a time (e.g. \"we'll get back to you within "
            "24 hours\"); for the future, say what you're changing to help prevent it.",
        ),
    },
    ("interrogation", "many"): {
        "es": (
            "Demasiadas preguntas seguidas: suena a interrogatorio.",
            "Haz como mucho una o dos preguntas abiertas (cuándo, dónde, cómo) y pide el resto "
            "de datos por privado.",
        ),
        "en": (
            "Too many questions in a row: it reads like an interrogation.",
            "Ask one or two open questions at most (when, where, how) and collect the rest "
            "privately.",
        ),
    },
    ("interrogation", "closed"): {
        "es": (
            "Cadena de preguntas de sí o no.",
            "Cambia las preguntas cerradas por una abierta, p. ej. «¿Nos cuentas cómo ocurrió?».",
        ),
        "en": (
            "A chain of yes/no questions.",
            "Replace the closed questions with one open question, e.g. \"Could you tell us "
            "how it happened?\".",
        ),
    },
    ("indifference", ""): {
        "es": (
            "No agradece, no se disculpa ni muestra empatía.",
            "Empieza agradeciendo el aviso y pidiendo disculpas en nombre de la empresa, con el "
            "nombre del cliente y una frase propia sobre su problema.",
        ),
        "en": (
            "No thanks, apology or empathy.",
            "Start by thanking them and apologising on behalf of the company, using their name "
            "and a line of your own about their problem.",
        ),
    },
    ("indifference", "canned"): {
        "es": (
            "Disculpa de fórmula que suena indiferente.",
            "Sustituye la fórmula por una disculpa concreta sobre lo que le pasó al cliente.",
        ),
        "en": (
            "A stock apology that sounds indifferent.",
            "Replace the stock phrase with a specific apology about what happened to them.",
        ),
    },
    ("no_next_step", "step"): {
        "es": (
            "No dice cuál es el siguiente paso.",
            "Di qué va a pasar ahora y dónde seguir (p. ej. «te escribimos por mensaje directo») "
            "y cuándo tendrá respuesta.",
        ),
        "en": (
            "No next step.",
            "Say what happens now and where to continue (e.g. \"we've sent you a DM\") and when "
            "they'll hear back.",
        ),
    },
    ("no_next_step", "time"): {
        "es": (
            "El siguiente paso no tiene plazo.",
            "Añade un plazo concreto que podáis cumplir, p. ej. «en menos de 24 horas» o «hoy "
            "antes de las 18:00».",
        ),
        "en": (
            "The next step has no time frame.",
            "Add a concrete time you can keep, e.g. \"within 24 hours\" or \"today before 6pm\".",
        ),
    },
    ("personal_data_public", ""): {
        "es": (
            "Datos personales en una respuesta pública: {kind}.",
            "Quita el dato de la respuesta pública y trátalo por mensaje privado o correo.",
        ),
        "en": (
            "Personal data in a public reply: {kind}.",
            "Remove it from the public reply and handle it by private message or e-mail.",
        ),
    },
    ("wrong_language", ""): {
        "es": (
            "La respuesta no está en el idioma del cliente ({customer}).",
            "Responde en el idioma en que escribió el cliente.",
        ),
        "en": (
            "The reply is not in the customer's language ({customer}).",
            "Reply in the language the customer wrote in.",
        ),
    },
    ("too_long", ""): {
        "es": (
            "Demasiado larga para {network}: {length} de {limit} caracteres.",
            "Acorta a lo esencial (gracias, disculpa, canal privado, plazo) y deja los detalles "
            "para el mensaje privado.",
        ),
        "en": (
            "Too long for {network}: {length} of {limit} characters.",
            "Cut it to the essentials (thanks, apology, private channel, time) and keep the "
            "details for the private message.",
        ),
    },
    ("shouting", ""): {
        "es": (
            "Mayúsculas sostenidas: se lee como un grito.",
            "Escribe en minúsculas; si algo es importante, dilo con palabras, no con mayúsculas.",
        ),
        "en": (
            "Sustained capitals read as shouting.",
            "Use normal case; if something matters, say so in words rather than capitals.",
        ),
    },
    ("shouting", "hint"): {
        "es": (
            "Palabra en mayúsculas para enfatizar.",
            "Mejor sin mayúsculas de énfasis.",
        ),
        "en": (
            "A word in capitals for emphasis.",
            "Better without emphasis capitals.",
        ),
    },
}


def advice(rule: str, lang: str, variant: str = "", **values: object) -> tuple[str, str]:
    """The (message, suggestion) pair for a rule in `lang` ("es" or "en", default "en")."""
    texts = ADVICE[(rule, variant)]
    message, suggestion = texts.get(lang, texts["en"])
    return message.format(**values), suggestion.format(**values)
