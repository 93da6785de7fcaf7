"""A rude reply in a real browser: the agent sees the finding live, sends it, it waits; the lead
approves it on /approvals and it goes out once to the (simulated) network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.connectors_sim.server import SimServer
from tests.connectors_sim.sim_network import SimNetwork

pytestmark = pytest.mark.e2e
RUDE = "Como ya le explicamos, deje de quejarse, pesado. Lea las condiciones."


def sign_in(page, live_server: str, email: str) -> None:
    page.goto(live_server + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "ventanilla-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-inbox]")


def test_a_rude_reply_waits_for_the_lead_who_approves_it(browser, live_server: str, tmp_path: Path) -> None:
    with SimServer() as server:
        net = SimNetwork(server)
        # The demo's X channel answers through the local simulated network instead of X.
        engine = create_engine(f"sqlite:///{tmp_path / 'e2e.db'}")
        with engine.begin() as conn:
            case_id, channel_id = conn.execute(text("SELECT id, channel_id FROM case_file ORDER BY id LIMIT 1")).one()
            conn.execute(text("UPDATE channel SET network = 'sim', settings = :s WHERE id = :id"),
                         {"s": json.dumps({"base_url": server.base_url}), "id": channel_id})
        engine.dispose()

        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, live_server, "ana@example.com")
        page.goto(f"{live_server}/cases/{case_id}")
        box = page.wait_for_selector("#reply-text")
        assert "Ana" in (box.input_value() or "")  # the playbook draft, signed by the agent

        page.fill("#reply-text", RUDE)
        finding = page.wait_for_selector("#reply-findings [data-rule='rudeness']")
        assert finding.get_attribute("data-severity") == "high"
        assert page.locator("#reply-findings mark").count() >= 1
        assert "lead must approve" in page.locator("#reply-findings").inner_text()
        page.click("[data-send='public']")
        page.wait_for_selector("[data-reply-status='needs_approval']")
        assert not net.posted

        page.click("header form[action='/logout'] button")
        page.wait_for_url(re.compile(r"/login"))
        sign_in(page, live_server, "lead@example.com")
        page.click("nav a[href='/approvals']")
        held = page.wait_for_selector("[data-approval]")
        assert "deje de quejarse" in held.inner_text()
        page.fill("[data-approval] input[name=comment]", "Approved: the customer asked for it this way.")
        page.click("[data-approval] [data-approve]")
        page.wait_for_selector("[data-approvals-empty]")
        assert len(net.posted) == 1 and next(iter(net.posted.values()))["text"] == RUDE

        page.goto(f"{live_server}/cases/{case_id}")
        page.wait_for_selector("[data-reply-status='sent']")
        assert errors == []
        context.close()
