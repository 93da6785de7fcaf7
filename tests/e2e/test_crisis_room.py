"""The crisis team in a real browser: open a room by hand, write the holding statement, sign it."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def test_crisis_user_opens_a_room_writes_a_statement_and_signs_off(browser, live_server: str) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + "/login")
    page.fill("input[name=email]", "crisis@example.com")
    page.fill("input[name=password]", "ventanilla-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("header nav")

    page.click("header nav a[href='/crisis']")
    page.wait_for_url(re.compile(r"/crisis$"))
    page.fill("#room-title", "Rumour about a strike at Barajas")
    page.click("[data-open-by-hand] button[type=submit]")
    page.wait_for_url(re.compile(r"/crisis/rooms/\d+$"))
    assert page.locator("[data-room-state=open]").is_visible()
    assert page.locator("[data-members] [data-role=commander]").count() == 1

    # Join as communications, so this person may sign the statement for communications.
    me = page.locator("#member-user option", has_text="Carlos Crisis").get_attribute("value")
    page.select_option("#member-user", me)
    page.select_option("#member-role", "communications")
    page.click("[data-add-member] button[type=submit]")
    page.wait_for_selector("[data-members] [data-role=communications]")

    page.click("[data-new-statement=en]")
    page.wait_for_selector("#statement-en textarea[data-statement-text]")
    text = page.locator("#statement-en textarea[data-statement-text]").input_value()
    assert "Rumour about a strike at Barajas" in text
    page.fill("#statement-en textarea[data-statement-text]", text + " Next update at 18:00.")
    page.click("#statement-en form.stack button[type=submit]")
    page.wait_for_selector("#statement-en h3:has-text('v2')")

    page.click("#statement-en [data-sign=communications]")
    page.wait_for_selector("#statement-en [data-signed=communications]")
    assert page.locator("#statement-en [data-missing]").inner_text() == "legal"
    page.click("#statement-en [data-publish=en]")
    page.wait_for_selector("[data-error]")
    assert "sign-off missing from legal" in page.locator("[data-error]").inner_text()
    assert "signed off statement (en) v2 as communications" in page.locator("[data-timeline]").inner_text()
    assert errors == []
    context.close()
