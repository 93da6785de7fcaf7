"""Imports every domain's tables so that metadata (and Alembic) sees them all."""

from ventanilla.accounts import models as accounts_models
from ventanilla.audit import guard as audit_guard
from ventanilla.audit import models as audit_models
from ventanilla.cases import models as cases_models
from ventanilla.cases import workflow_models as cases_workflow_models  # noqa: F401
from ventanilla.crisis import models as crisis_models  # noqa: F401
from ventanilla.db import Base
from ventanilla.followups import models as followups_models  # noqa: F401
from ventanilla.improvements import models as improvements_models  # noqa: F401
from ventanilla.ingest import listener_models as ingest_listener_models  # noqa: F401
from ventanilla.ingest import models as ingest_models
from ventanilla.ingest import sync_models as ingest_sync_models  # noqa: F401
from ventanilla.privacy import models as privacy_models  # noqa: F401
from ventanilla.replies import models as replies_models  # noqa: F401
from ventanilla.sla import models as sla_models  # noqa: F401
from ventanilla.triage import models as triage_models  # noqa: F401

__all__ = ["Base", "accounts_models", "audit_guard", "audit_models", "cases_models", "ingest_models"]
