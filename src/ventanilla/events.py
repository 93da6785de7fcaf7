"""Domain events inside one transaction: a domain announces what happened, others react.

This keeps domains apart: cases announce "case.status_changed" and the SLA clock pauses,
without the cases service importing the SLA service. Handlers run synchronously in the
publisher's session and transaction, so a failure rolls the whole change back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = defaultdict(list)

# The events the product publishes, with their keyword payloads:
#   case.opened          case_ids: list[int]
#   case.post_added      case_ids: list[int]   (a customer wrote again on an open case)
#   case.assigned        case_id, assignee_id, actor
#   case.status_changed  case_id, before: str, after: str, actor
#   case.replied         case_id, reply_id, public: bool, at: datetime
EVENTS = ("case.opened", "case.post_added", "case.assigned", "case.status_changed", "case.replied")


def subscribe(event: str, handler: Handler) -> Handler:
    """Call ``handler(session, **payload)`` whenever ``event`` is published."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; one of: {', '.join(EVENTS)}")
    if handler not in _handlers[event]:
        _handlers[event].append(handler)
    return handler


def on(event: str) -> Callable[[Handler], Handler]:
    """Decorator form of `subscribe`."""

    def register(handler: Handler) -> Handler:
        return subscribe(event, handler)

    return register


def publish(session: Session, event: str, **payload: Any) -> None:
    """Run every handler of ``event`` in the caller's session."""
    _load_subscribers()
    for handler in list(_handlers.get(event, ())):
        handler(session, **payload)


_loaded = False


def _load_subscribers() -> None:
    # Domains that react to events register on import; list them here once.
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib

    for module in SUBSCRIBERS:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


SUBSCRIBERS: tuple[str, ...] = (
    "ventanilla.sla.subscribers",
    "ventanilla.followups.subscribers",
    "ventanilla.cases.routing",
    "ventanilla.cases.workflow",
    "ventanilla.crisis.live",
)
