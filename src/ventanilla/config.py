"""Settings, read once from VENTANILLA_* environment variables (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob the product has. See `.env.example` for documentation of each one."""

    model_config = SettingsConfigDict(env_prefix="VENTANILLA_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///var/ventanilla.db")
    broker_url: str | None = None
    queue_name: str = "ventanilla"
    secret_key: str = "change-me-in-production-please-0123456789"
    cookie_secure: bool = False
    session_max_age: int = 8 * 3600
    base_url: str = "http://127.0.0.1:8000"
    default_language: str = "es"
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    login_max_failures: int = 5
    login_window_seconds: int = 900
    max_upload_bytes: int = 50 * 1024 * 1024
    shared_data: Path = Path("../shared/data")
    reports_dir: Path = Path("var/reports")
    model_dir: Path = Path("var/models")
    triage_on_ingest: bool = True
    # Run the periodic jobs inside `ventanilla serve` when no broker is set.
    run_clock: bool = True
    # Outgoing e-mail (SLA alerts). No host: alerts stay in the app and the webhook only.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_from: str = "ventanilla@localhost"
    smtp_timeout: float = 10.0
    # Crisis alerts about posts older than this many hours are recorded, not e-mailed or posted.
    crisis_delivery_horizon_hours: float = Field(default=24.0, gt=0)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite default."""
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache to change them)."""
    return Settings()
