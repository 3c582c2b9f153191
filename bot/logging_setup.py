"""Logging to a file: people see polite messages, the log keeps the details."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

__all__ = [
    "CARRY_BODIES",
    "LIBRARIES",
    "LibraryFilter",
    "configure_logging",
]

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LIBRARIES = (
    "sqlalchemy",
    "asyncio",
    "alembic",
    "discord",
    "slack_bolt",
    "slack_sdk",
    "apscheduler",
)
# Library loggers whose debug and info records carry what people wrote (SQL rows and
# parameters, gateway payloads, HTTP bodies): kept out of the log at every level, DEBUG too.
CARRY_BODIES = (
    "sqlalchemy.engine",
    "sqlalchemy.orm",
    "discord.gateway",
    "discord.http",
    "discord.webhook",
    "discord.state",
    "slack_bolt",
    "slack_sdk",
)
# Harmless library warnings a person cannot act on. bolt reads SLACK_BOT_TOKEN from the
# environment itself and says it is unused because the adapter passes its own client.
_DROPPED = frozenset({"As you gave `client` as well, `token` will be unused."})


class LibraryFilter(logging.Filter):
    """Keeps library records below WARNING out of every handler, unless logging at DEBUG
    (and even then those of the loggers in CARRY_BODIES, which hold people's text).

    A logger level is not enough: slack_bolt copies the root's level onto each logger it
    creates (slack_bolt.logger._configure_from_root), and at INFO it logs the whole body
    of every request that fails verification; a clock-skewed node would write a person's
    free text to the log. A handler filter sees every record, whatever the logger's level.
    """

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        library = record.name.split(".", 1)[0] in LIBRARIES
        if not library:
            return True
        if record.levelno < logging.WARNING and (
            self.level > logging.DEBUG or record.name.startswith(CARRY_BODIES)
        ):
            return False
        return record.msg not in _DROPPED


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
            # No log file: the terminal gets errors only. Warnings (a database driver's
            # "unable to open database file" with its links) would stand beside the one
            # clear sentence start-up prints, and say less.
            handler = logging.StreamHandler()
            handler.setLevel(logging.ERROR)
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
    quiet = LibraryFilter(root.level)
    for each in root.handlers:
        each.addFilter(quiet)
    for noisy in LIBRARIES:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return used
