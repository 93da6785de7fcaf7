"""ventanilla: a self-hosted desk for public complaints, answered well and on time."""

__version__ = "0.1.0"
