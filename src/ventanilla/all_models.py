"""Imports every domain's tables so that metadata (and Alembic) sees them all."""

from ventanilla.accounts import models as accounts_models
from ventanilla.audit import guard as audit_guard
from ventanilla.audit import models as audit_models
from ventanilla.cases import models as cases_models
from ventanilla.db import Base
from ventanilla.ingest import models as ingest_models
from ventanilla.ingest import sync_models as ingest_sync_models  # noqa: F401
from ventanilla.triage import models as triage_models  # noqa: F401

__all__ = ["Base", "accounts_models", "audit_guard", "audit_models", "cases_models", "ingest_models"]
