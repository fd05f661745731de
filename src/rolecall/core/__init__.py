"""The headless core: catalogue, session names, STS, cache, journal.

Nothing in here imports Textual or Rich, prints, prompts or exits; callers do that.
"""
