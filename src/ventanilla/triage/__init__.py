"""Triage: language, complaint, sentiment, reason, offensiveness, intent, urgency and impact."""
