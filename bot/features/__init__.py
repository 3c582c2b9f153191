"""The core's features; each registers its events with the dispatcher (bot/engine.py)."""
