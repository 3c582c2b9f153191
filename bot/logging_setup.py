"""Logging to a file: people see polite messages, the log keeps the details."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, log_file: Path | None, *, to_stderr: bool = False) -> Path | None:
    """Send logs to ``log_file`` (rotated); fall back to stderr if it cannot be written.

    Returns the file actually used, so error messages can point at it.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(level)
    used: Path | None = None
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = logging.handlers.RotatingFileHandler(
                log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
            )
            used = log_file
        except OSError:
            handler = logging.StreamHandler()
            handler.setLevel(logging.WARNING)
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    if to_stderr and used is not None:
        err = logging.StreamHandler()
        err.setLevel(logging.WARNING)
        err.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(err)
    # Library chatter stays out of INFO: it can include request bodies.
    for noisy in (
        "sqlalchemy",
        "asyncio",
        "alembic",
        "discord",
        "slack_bolt",
        "slack_sdk",
        "apscheduler",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return used
