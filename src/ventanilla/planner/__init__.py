"""Planner domain."""
