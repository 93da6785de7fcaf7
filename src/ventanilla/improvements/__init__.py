"""Improvements domain."""
