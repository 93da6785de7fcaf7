"""Replies domain."""
