"""Each tone rule, in Spanish and English, on replies written for these tests (not the data set)."""

from __future__ import annotations

import pytest

from ventanilla.replies.lint import RULE_IDS, Finding, lint

GOOD_ES = (
    "@sofia_rt Gracias por avisarnos, Sofía, y perdona el retraso. Escríbenos por mensaje "
    "directo y te respondemos en menos de 24 horas. ^Lucía"
)
GOOD_EN = (
    "@sofia_rt Thanks for letting us know, Sofia, and sorry about the delay. Send us a DM and "
    "we'll get back to you within 24 hours. ^Tom"
)


def blocking(text: str, **options: object) -> set[str]:
    settings: dict[str, object] = {"customer_lang": "es", "public": True, "network": "x"}
    settings.update(options)
    return {f.rule for f in lint(text, **settings) if f.blocking}  # type: ignore[arg-type]


def findings_of(rule: str, text: str, **options: object) -> list[Finding]:
    settings: dict[str, object] = {"customer_lang": "es", "public": True, "network": "x"}
    settings.update(options)
    return [f for f in lint(text, **settings) if f.rule == rule and f.blocking]  # type: ignore[arg-type]


def test_good_replies_have_no_blocking_finding() -> None:
    assert blocking(GOOD_ES) == set()
    assert blocking(GOOD_EN, customer_lang="en") == set()


POSITIVE = [
    ("rudeness", "es", "Deje de quejarse, pesado. Le escribimos por DM en 24 h, perdone."),
    ("rudeness", "es", "Como ya le explicamos, perdone, la tarifa no incluye maleta. Le escribimos hoy."),
    ("rudeness", "es", "Con todo respeto, no entiende la oferta. Perdona; te escribimos por DM hoy."),
    ("rudeness", "en", "As we already told you, sorry, refunds take 5 days. We'll DM you today."),
    ("rudeness", "en", "Calm down, sorry for the trouble. We'll DM you within 24h."),
    ("rudeness", "es", "Perdona, aunque no es tan difícil: el botón está arriba. Te escribimos hoy por DM."),
    ("rudeness", "es", "Sentimos la espera, pero vaya drama por un retraso. Te escribimos por DM hoy."),
    ("rudeness", "en", "Sorry, but it really isn't complicated: the button is at the top. We'll DM you today."),
    ("rudeness", "en", "Sorry for the wait, though there's no need for so much drama. We'll DM you today."),
    ("blaming", "es", "Perdona, pero deberías haber revisado el correo. Te escribimos por DM hoy."),
    ("blaming", "en", "Sorry, but you should have checked your email. We'll DM you today."),
    ("blaming", "en", "Sorry, it's not our fault the parcel was left outside. DM us, reply today."),
    ("justifying", "es", "Perdona la espera, es que hubo mucha demanda. Te escribimos por DM hoy."),
    ("justifying", "en", "Sorry, that was due to circumstances beyond our control. DM us; reply today."),
    ("impossible_promise", "es", "Perdona el error, no volverá a pasar nunca más. Te escribimos hoy por DM."),
    ("impossible_promise", "es", "Lo sentimos: garantizamos al 100% que llegará. Te escribimos hoy por DM."),
    ("impossible_promise", "en", "Sorry, this will never happen again. We'll DM you today."),
    ("impossible_promise", "en", "Sorry about that. Never again, we promise! We'll DM you today."),
    ("interrogation", "es", "Lo sentimos. ¿Cuándo compró? ¿En qué tienda? ¿Con qué tarjeta? Le escribimos hoy."),
    ("interrogation", "es", "Lo sentimos. ¿Tiene el ticket? ¿Lo pagó usted? Le escribimos por DM hoy."),
    ("interrogation", "en", "Sorry. Did you keep the receipt? Was it paid by card? We'll DM you today."),
    ("indifference", "es", "Lamentamos las molestias ocasionadas. Escríbanos por DM y respondemos hoy."),
    ("indifference", "es", "Escriba por DM su número de pedido y le respondemos en 24 horas."),
    ("indifference", "en", "We apologize for any inconvenience. DM us and we'll reply today."),
    ("no_next_step", "es", "Gracias por avisar y perdona. Lo revisaremos lo antes posible."),
    ("no_next_step", "en", "Thanks for telling us, and sorry. We'll look into it as soon as possible."),
    ("no_next_step", "en", "Thanks for the message and sorry about this experience."),
    ("personal_data_public", "es", "Perdona, Ana. Te escribimos a ana.ruiz@gmail.com hoy mismo."),
    ("personal_data_public", "es", "Perdona, Ana. Te llamamos al 612 345 678 hoy a las 18:00."),
    ("personal_data_public", "es", "Perdona. Con tu DNI 12345678Z lo corregimos hoy, te escribimos por DM."),
    ("personal_data_public", "es", "Perdona, te devolvemos el dinero a ES91 2100 0418 4502 0005 1332 hoy."),
    ("personal_data_public", "es", "Perdona, tu pedido 40018822 sale hoy; te escribimos por DM."),
    ("personal_data_public", "es", "Perdona, lo enviamos hoy a Calle Mayor 14 y te escribimos por DM."),
    ("personal_data_public", "en", "Sorry, we refunded card 4111 1111 1111 1111 today; we'll DM you."),
    ("personal_data_public", "en", "Sorry, we'll send it to 12 Baker Street today and DM you."),
    ("personal_data_public", "en", "Sorry, booking reference XK4PQ9 is fixed; we'll DM you today."),
    ("shouting", "es", "Perdona. EL PEDIDO YA ESTÁ EN CAMINO. Te escribimos por DM hoy."),
    ("shouting", "en", "Sorry. YOUR REFUND IS ALREADY DONE. We'll DM you today."),
]


@pytest.mark.parametrize(("rule", "lang", "text"), POSITIVE)
def test_rule_catches_its_example(rule: str, lang: str, text: str) -> None:
    found = findings_of(rule, text, customer_lang=lang)
    assert found, f"{rule} not found in {text!r}"
    for finding in found:
        assert 0 <= finding.start < finding.end <= len(text)
        assert finding.suggestion


NEGATIVE = [
    ("rudeness", "es", "Te entendemos y lo sentimos. Según la tarifa no hay maleta, pero te ayudamos hoy por DM."),
    ("rudeness", "en", "We understand, and we're sorry. We'll go through the terms with you by DM today."),
    ("rudeness", "es", "No te preocupes, no es tan difícil como parece: te lo explicamos hoy por DM, perdona."),
    ("rudeness", "es", "Gracias por tu paciencia infinita y perdona la espera. Te escribimos por DM hoy."),
    ("rudeness", "en", "Sorry, it's not as hard as it looks: we'll walk you through it by DM today."),
    ("rudeness", "en", "Thanks for your endless patience, and sorry for the wait. We'll DM you today."),
    ("blaming", "es", "El pedido debía haber llegado el martes, perdona. Te escribimos por DM hoy."),
    ("blaming", "en", "Your parcel should have arrived on Tuesday, sorry. We'll DM you today."),
    ("justifying", "es", "Te pedimos disculpas por la avería. Te escribimos por DM hoy."),
    ("justifying", "en", "We apologise for the delay to your flight. We'll DM you today."),
    ("impossible_promise", "es", "Perdona. Trabajamos para que no vuelva a ocurrir; te escribimos por DM hoy."),
    ("impossible_promise", "en", "Sorry. We're changing our process so it doesn't happen again; DM us today."),
    ("interrogation", "es", "Lo sentimos. ¿Nos cuentas cómo ocurrió? Te respondemos por DM hoy."),
    ("interrogation", "en", "Sorry. Could you tell us how it happened? We'll reply by DM today."),
    ("indifference", "es", "Sentimos mucho el retraso. Escríbenos por DM y te respondemos hoy."),
    ("indifference", "en", "We're really sorry about the delay. DM us and we'll reply today."),
    ("no_next_step", "es", "Gracias y perdona. Te escribimos por DM antes de las 18:00."),
    ("no_next_step", "en", "Thanks, and sorry. We'll DM you before 6pm today."),
    ("personal_data_public", "es", "Perdona. Envíanos tu número de pedido por DM y te respondemos hoy."),
    ("personal_data_public", "es", "Perdona. Llámanos gratis al 900 100 200 o escríbenos por DM hoy."),
    ("personal_data_public", "en", "Sorry. DM us your order number and we'll reply today."),
    ("shouting", "es", "Perdona. Escríbenos por DM con tu DNI y te respondemos hoy."),
    ("shouting", "en", "Sorry. DM us and we'll reply today via the FAQ page or by SMS."),
    ("too_long", "es", "Gracias y perdona. Escríbenos por DM y te respondemos hoy. " + "Un saludo. " * 3),
]


@pytest.mark.parametrize(("rule", "lang", "text"), NEGATIVE)
def test_rule_leaves_a_fine_reply_alone(rule: str, lang: str, text: str) -> None:
    assert findings_of(rule, text, customer_lang=lang) == []


def test_personal_data_is_fine_in_a_private_reply() -> None:
    text = "Gracias, Ana. Te llamamos al 612 345 678 hoy a las 18:00. Perdona la espera."
    assert findings_of("personal_data_public", text, public=False) == []
    assert findings_of("personal_data_public", text, public=True)


def test_wrong_language_both_ways() -> None:
    assert findings_of("wrong_language", GOOD_ES, customer_lang="en")
    assert findings_of("wrong_language", GOOD_EN, customer_lang="es")
    assert findings_of("wrong_language", GOOD_ES, customer_lang="es") == []


def test_too_long_counts_as_x_does() -> None:
    text = (GOOD_ES + " " + "Sentimos mucho las molestias de verdad. " * 4).strip()
    assert len(text) > 280
    [finding] = findings_of("too_long", text, network="x")
    assert finding.start == 280 and finding.end == len(text)
    assert findings_of("too_long", text, network="facebook") == []
    assert findings_of("too_long", text, network="x", public=False) == []
    # X counts a link as 23 characters however long it is.
    link = "https://example.com/" + "a" * 300
    assert findings_of("too_long", GOOD_ES + " " + link, network="x") == []
    # ... and an emoji as two.
    emoji = GOOD_ES + " " + "🙂" * 80
    assert len(emoji) < 280
    assert findings_of("too_long", emoji, network="x")


def test_justifying_is_only_a_hint_in_a_follow_up() -> None:
    text = "Perdona, es que hubo mucha demanda. Te escribimos por DM hoy."
    assert findings_of("justifying", text, first_reply=True)
    hints = [f for f in lint(text, customer_lang="es", public=True, first_reply=False)
             if f.rule == "justifying"]
    assert hints and all(f.severity == "low" for f in hints)


def test_absence_rules_cover_the_whole_reply_and_skip_non_complaints() -> None:
    text = "Tomamos nota de su comentario."
    for rule in ("indifference", "no_next_step"):
        [finding] = findings_of(rule, text)
        assert (finding.start, finding.end) == (0, len(text))
        assert findings_of(rule, text, is_complaint=False) == []


def test_suggestion_is_in_the_reply_language() -> None:
    [es] = findings_of("no_next_step", "Gracias por avisar y perdona, Ana.")
    [en] = findings_of("no_next_step", "Thanks for telling us and sorry, Ann.", customer_lang="en")
    assert "cuándo tendrá respuesta" in es.suggestion
    assert "when they.ll hear back" in en.suggestion or "hear back" in en.suggestion


def test_rule_ids_are_the_documented_ones() -> None:
    assert RULE_IDS == (
        "rudeness", "blaming", "justifying", "impossible_promise", "interrogation",
        "indifference", "no_next_step", "personal_data_public", "wrong_language", "too_long",
        "shouting",
    )
