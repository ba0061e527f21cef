"""The feedback loop: people, the question log, tickets, surveys, training, digests and scheduled jobs.

Nothing here imports Slack; callers pass plain values and get plain results back.
"""
