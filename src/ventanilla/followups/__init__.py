"""Followups domain."""
