"""Ingest: every way a post reaches ventanilla (files, webhooks, connectors)."""
