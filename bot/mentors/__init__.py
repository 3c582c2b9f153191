"""The mentor hand-off: what is shared and its words (texts, summary), the board's
queue of work and the worker that does it (worker, service). The events are handled by
bot/features/mentors.py; docs/mentors.md tells the whole story."""
