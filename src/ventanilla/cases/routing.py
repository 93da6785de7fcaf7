"""Routing: new cases go to the team of the first matching rule, then round-robin to an agent
who speaks the case's language and has room (open cases below their capacity)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Membership, Team, TeamMember
from ventanilla.audit.service import SYSTEM, Actor, EventDraft, record, record_many
from ventanilla.cases.models import OPEN_STATUSES, Case
from ventanilla.cases.workflow_models import RoutingRule
from ventanilla.events import on
from ventanilla.ingest.models import Author, Post

CONDITIONS = ("reason", "language", "channel_id", "priority_max", "min_followers")


class RoutingError(ValueError):
    """A routing rule that cannot be saved."""


def rules(session: Session, *, workspace_id: int) -> list[RoutingRule]:
    """The workspace's rules in evaluation order."""
    return list(session.scalars(select(RoutingRule).where(RoutingRule.workspace_id == workspace_id)
                                .order_by(RoutingRule.position, RoutingRule.id)))


def add_rule(session: Session, *, workspace_id: int, name: str, team_id: int, conditions: dict[str, Any],
             auto_assign: bool = True, actor: Actor) -> RoutingRule:
    """Add a rule at the end of the list (leads edit rules; audited)."""
    unknown = set(conditions) - set(CONDITIONS)
    if unknown:
        raise RoutingError(f"unknown conditions: {', '.join(sorted(unknown))}")
    if session.scalar(select(Team.id).where(Team.id == team_id, Team.workspace_id == workspace_id)) is None:
        raise RoutingError("no such team in this workspace")
    clean = {k: v for k, v in conditions.items() if v not in (None, "")}
    position = (session.scalar(select(func.max(RoutingRule.position))
                               .where(RoutingRule.workspace_id == workspace_id)) or 0) + 1
    rule = RoutingRule(workspace_id=workspace_id, name=name.strip() or "rule", team_id=team_id,
                       conditions=clean, auto_assign=auto_assign, position=position)
    session.add(rule)
    session.flush()
    record(session, actor, "routing.rule_added", target_type="routing_rule", target_id=rule.id,
           workspace_id=workspace_id, after={"name": rule.name, "team_id": team_id, "conditions": clean})
    return rule


def move_rule(session: Session, *, rule: RoutingRule, offset: int, actor: Actor) -> None:
    """Move a rule up (-1) or down (+1) in the evaluation order."""
    ordered = rules(session, workspace_id=rule.workspace_id)
    index = ordered.index(rule)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    for position, item in enumerate(ordered, start=1):
        item.position = position
    record(session, actor, "routing.rule_moved", target_type="routing_rule", target_id=rule.id,
           workspace_id=rule.workspace_id, after={"position": target + 1})


def remove_rule(session: Session, *, rule: RoutingRule, actor: Actor) -> None:
    """Disable a rule (kept for the record)."""
    rule.enabled = False
    record(session, actor, "routing.rule_disabled", target_type="routing_rule", target_id=rule.id,
           workspace_id=rule.workspace_id)


def matches(conditions: dict[str, Any], facts: dict[str, Any]) -> bool:
    """True when every condition holds for the case's facts."""
    for key, wanted in conditions.items():
        value = facts.get(key)
        if key == "priority_max":
            if value is None or int(value) > int(wanted):
                return False
        elif key == "min_followers":
            if int(value or 0) < int(wanted):
                return False
        elif key == "channel_id":
            if int(value or 0) != int(wanted):
                return False
        elif str(value or "") != str(wanted):
            return False
    return True


def _facts(session: Session, case: Case) -> dict[str, Any]:
    labels = session.scalar(select(Post.labels).where(Post.case_id == case.id).order_by(Post.id).limit(1)) or {}
    followers = session.scalar(select(Author.followers).where(Author.id == case.author_id)) or 0
    return {"reason": labels.get("reason"), "language": case.language, "channel_id": case.channel_id,
            "priority_max": case.priority, "min_followers": followers}


def pick_agent(session: Session, *, team_id: int, language: str | None) -> int | None:
    """The team member with room who speaks ``language`` and has the fewest open cases
    (ties: the one assigned longest ago), i.e. round-robin weighted by load."""
    members = session.execute(
        select(TeamMember.user_id, Membership.languages, Membership.capacity, Membership.role)
        .join(Team, Team.id == TeamMember.team_id)
        .join(Membership, (Membership.user_id == TeamMember.user_id) & (Membership.workspace_id == Team.workspace_id))
        .where(TeamMember.team_id == team_id)
    ).all()
    staff = [m for m in members if m.role in ("agent", "lead", "admin")]
    spoken = {lang for m in staff for lang in (m.languages or [])}
    # A language nobody on the team claims ("other", or unknown) goes to anyone on the team.
    candidates = [m for m in staff if language not in spoken or language in (m.languages or [])]
    if not candidates:
        return None
    ids = [m.user_id for m in candidates]
    load = {r[0]: r[1] for r in session.execute(
        select(Case.assignee_id, func.count()).where(Case.assignee_id.in_(ids),
                                                     Case.status.in_([s.value for s in OPEN_STATUSES]))
        .group_by(Case.assignee_id))}
    last = {r[0]: r[1] for r in session.execute(
        select(Case.assignee_id, func.max(Case.id)).where(Case.assignee_id.in_(ids)).group_by(Case.assignee_id))}
    room = [m for m in candidates if load.get(m.user_id, 0) < m.capacity]
    if not room:
        return None
    best = min(room, key=lambda m: (load.get(m.user_id, 0), last.get(m.user_id, 0), m.user_id))
    return int(best.user_id)


def route_cases(session: Session, case_ids: list[int]) -> int:
    """Apply the workspace's rules to new, unassigned cases; returns how many were routed."""
    if not case_ids:
        return 0
    from ventanilla.cases.service import known_workspaces

    # The rules first: without any, the cases need not be loaded (bulk ingest opens thousands).
    workspace_id = known_workspaces(session).get(case_ids[0])
    if workspace_id is None:
        workspace_id = session.scalar(select(Case.workspace_id).where(Case.id == case_ids[0]))
    if workspace_id is None:
        return 0
    workspace_rules = [r for r in rules(session, workspace_id=workspace_id) if r.enabled]
    if not workspace_rules:
        return 0
    cases = list(session.scalars(select(Case).where(Case.id.in_(case_ids), Case.team_id.is_(None))
                                 .order_by(Case.opened_at, Case.id)))
    if not cases:
        return 0
    drafts: list[EventDraft] = []
    routed = 0
    for case in cases:
        facts = _facts(session, case)
        rule = next((r for r in workspace_rules if matches(r.conditions, facts)), None)
        if rule is None:
            continue
        assignee = pick_agent(session, team_id=rule.team_id, language=case.language) if rule.auto_assign else None
        values: dict[str, Any] = {"team_id": rule.team_id, "version": Case.version + 1}
        if assignee is not None and case.assignee_id is None:
            values["assignee_id"] = assignee
            values["status"] = "open" if case.status == "new" else case.status
        session.execute(update(Case).where(Case.id == case.id).values(**values)
                        .execution_options(synchronize_session=False))
        # Later cases in the same batch must see this one's load.
        session.flush()
        drafts.append(EventDraft("case.routed", "case", str(case.id), case.workspace_id,
                                 after={"rule": rule.name, "team_id": rule.team_id, "assignee_id": assignee}))
        routed += 1
    record_many(session, SYSTEM, drafts)
    return routed


@on("case.opened")
def _route_new_cases(session: Session, *, case_ids: list[int]) -> None:
    route_cases(session, case_ids)
