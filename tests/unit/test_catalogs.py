"""The gettext catalogs: Spanish complete and well-formed, and the compiled .mo files up to date.

Fix a failure with ``make translations`` (scripts/update_translations.sh): translate what it reports
as untranslated or fuzzy in src/ventanilla/locale/es/LC_MESSAGES/messages.po, then run it again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from ventanilla.cases.models import CaseStatus
from ventanilla.web.i18n import LOCALES, SUPPORTED

DEFAULT = "es"
# Python %-format placeholders: %(name)s, %(num)d, %s, %.1f ... but not a literal %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
# A fresh git checkout writes messages.mo a moment before messages.po; a stale compile is minutes off.
CHECKOUT_SLACK_NS = 2_000_000_000


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


def mo_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.mo"


def load_po(language: str) -> Catalog:
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language)


def messages(catalog: Catalog) -> list[Message]:
    """The catalog's messages without the header entry."""
    return [m for m in catalog if m.id]


def strings(message: Message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string or "",)


def placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


@pytest.fixture(scope="module")
def spanish() -> Catalog:
    return load_po(DEFAULT)


def test_every_spanish_message_is_translated(spanish: Catalog) -> None:
    untranslated = [m.id for m in messages(spanish) if not all(s.strip() for s in strings(m))]
    assert not untranslated, f"untranslated in {po_path(DEFAULT)}: {untranslated}"


def test_spanish_plurals_have_every_form(spanish: Catalog) -> None:
    wrong = [m.id for m in messages(spanish) if m.pluralizable and len(strings(m)) != spanish.num_plurals]
    assert not wrong, f"need {spanish.num_plurals} plural forms: {wrong}"


def test_spanish_placeholders_match_the_source(spanish: Catalog) -> None:
    wrong = []
    for m in messages(spanish):
        ids = m.id if isinstance(m.id, (tuple, list)) else (m.id,)
        for index, text in enumerate(strings(m)):
            source = ids[0] if index == 0 else ids[-1]
            if text and placeholders(text) != placeholders(source):
                wrong.append((source, text))
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong}"


@pytest.mark.parametrize("language", SUPPORTED)
def test_no_fuzzy_entries(language: str) -> None:
    catalog = load_po(language)
    # A fuzzy header makes `pybabel compile` skip the whole catalog; fuzzy messages are left out of it.
    assert not catalog.fuzzy, f"{po_path(language)}: the header is marked fuzzy"
    fuzzy = [m.id for m in messages(catalog) if m.fuzzy]
    assert not fuzzy, f"fuzzy in {po_path(language)}: {fuzzy}"


@pytest.mark.parametrize("language", SUPPORTED)
def test_compiled_catalog_is_not_older_than_the_po(language: str) -> None:
    po, mo = po_path(language), mo_path(language)
    assert mo.exists(), f"{mo} is missing: run `make translations`"
    assert mo.stat().st_mtime_ns >= po.stat().st_mtime_ns - CHECKOUT_SLACK_NS, (
        f"{po} changed after {mo} was compiled: run `make translations`")


def compiled_form(message: Message) -> tuple[object, tuple[str, ...]] | None:
    """What ``pybabel compile`` puts in the .mo for ``message`` (None: nothing), keyed by context and id."""
    if message.fuzzy or not message.string:
        return None
    if isinstance(message.id, (tuple, list)):  # an empty plural form falls back to the source text
        texts = tuple(s or message.id[min(i, 1)] for i, s in enumerate(strings(message)))
        return (message.context, tuple(message.id)), texts
    return (message.context, message.id), strings(message)


@pytest.mark.parametrize("language", SUPPORTED)
def test_compiled_catalog_matches_the_po(language: str) -> None:
    """Catches a stale compile however the files' times came to be."""
    expected = dict(filter(None, map(compiled_form, messages(load_po(language)))))
    with mo_path(language).open("rb") as f:
        compiled = {(m.context, tuple(m.id) if isinstance(m.id, (tuple, list)) else m.id): strings(m)
                    for m in messages(read_mo(f))}
    assert compiled == expected, f"{mo_path(language)} is stale: run `make translations`"


def test_statuses_shown_from_data_are_in_the_catalog(spanish: Catalog) -> None:
    """Templates call ``_(case.status)``; the extractor cannot see those ids, so
    src/ventanilla/locale/runtime_msgids.py lists them. A new status must be added there."""
    ids = {m.id for m in messages(spanish)}
    needed = {s.value for s in CaseStatus} | {"active", "any status"}
    assert needed <= ids, f"add to src/ventanilla/locale/runtime_msgids.py: {sorted(needed - ids)}"
