"""An agent's morning, in a real browser: sign in, filter, open a case, take it, note it."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def test_agent_signs_in_filters_assigns_with_the_keyboard_and_notes(browser, live_server: str, tmp_path) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + "/")
    assert "/login" in page.url
    page.fill("input[name=email]", "ana@example.com")
    page.fill("input[name=password]", "wrong-password-1")
    page.click("button[type=submit]")
    assert page.locator(".error").is_visible()
    page.fill("input[name=email]", "ana@example.com")
    page.fill("input[name=password]", "ventanilla-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-inbox]")

    # Filter: only English, then search a word.
    page.select_option("select[name=language]", "en")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"language=en"))
    rows = page.locator("[data-inbox] tbody tr[data-case]")
    assert rows.count() > 0

    # Keyboard: j moves the selection, a assigns to me, Enter opens.
    page.keyboard.press("j")
    selected = page.locator("[data-inbox] tr.selected")
    case_id = selected.get_attribute("data-case")
    page.keyboard.press("a")
    page.wait_for_function(
        "id => document.querySelector(`tr[data-case='${id}'] [data-assignee]`).textContent.includes('Ana')",
        arg=case_id)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    assert page.locator("#assignee option:checked").inner_text().startswith("Ana")

    # An internal note, then it shows in the notes and the timeline with who did it.
    page.keyboard.press("n")
    page.keyboard.type("Customer asked for the booking code by DM <b>ok</b>")
    page.click(".note-form button[type=submit]")
    page.wait_for_selector(".notes li:has-text('booking code by DM <b>ok</b>')")
    timeline = page.locator(".timeline").inner_text()
    assert "ana@example.com" in timeline
    assert page.locator(".timeline [data-action='case.assigned']").count() == 1
    assert page.locator(".timeline [data-action='case.note_added']").inner_text() == "added an internal note"

    # ? opens the shortcut help.
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    page.screenshot(path=str(tmp_path / "case-view.png"), full_page=True)
    page.goto(live_server + "/")
    page.screenshot(path=str(tmp_path / "inbox.png"))
    assert errors == []
    context.close()
