"""`ventanilla demo` on a machine without ../shared: the shipped sample, users, and replies
that go out through the demo's stand-in network."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from ventanilla.accounts.service import principal_for
from ventanilla.cases.models import Case
from ventanilla.db import session_scope
from ventanilla.demo.loader import DEMO_PASSWORD, load_demo
from ventanilla.ingest.models import Post


def test_demo_loads_the_sample_once_and_replies_can_be_sent(db_url: str, tmp_path: Path) -> None:
    from ventanilla.accounts.models import User
    from ventanilla.db import get_engine
    from ventanilla.replies import outbox, service

    first = load_demo(tmp_path / "no-shared-data")
    again = load_demo(tmp_path / "no-shared-data")
    assert first.posts == 120 and again.posts == 0
    assert first.password == DEMO_PASSWORD
    engine = get_engine(db_url)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 120
        case = s.scalars(select(Case).where(Case.language == "es").order_by(Case.id)).first()
        ana = s.scalar(select(User).where(User.email == "ana@example.com"))
        agent = principal_for(s, user_id=ana.id)
        text = service.draft_for_case(s, case=case, user_id=ana.id).text
        assert text and "Ana" in text  # signed with the agent's first name
        reply = service.submit_reply(s, case=case, text=text, actor=agent, public=True)
        reply_id, case_id = reply.id, case.id
        assert reply.status == "queued", reply.approval_reasons
    outbox.dispatch(reply_id)  # in-process queue: sent now
    with session_scope(engine) as s:
        sent = s.scalar(select(Post).where(Post.case_id == case_id, Post.direction == "out"))
        assert sent is not None and sent.external_id.startswith("demo-")
        assert s.get(Case, case_id).first_response_at is not None
