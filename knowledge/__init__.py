"""Manuals and FAQs in, ranked answers out. Nothing here imports Slack or reads the environment."""
