"""Message ids that the templates translate from data, listed here so that pybabel extracts them.

The templates call ``_(case.status)`` and ``_(s or "any status")``; the extractor only sees string
literals, so without this list these ids would never reach the catalogs.
Nothing imports this module: it exists for ``pybabel extract`` (see ``scripts/update_translations.sh``).
Add new case statuses here; ``tests/unit/test_catalogs.py`` checks they are present.
"""

from __future__ import annotations


def _(message: str) -> str:
    """A marker for the extractor; returns ``message`` unchanged."""
    return message


# Case statuses (``CaseStatus``) and the inbox's extra status filters.
STATUSES = (
    _("new"),
    _("open"),
    _("waiting"),
    _("resolved"),
    _("closed"),
    _("active"),
    _("any status"),
)
