"""The core's public surface: everything an adapter may use, and nothing else.

An adapter (console, Discord, Slack, the CLI, the serving runtime) imports from here, or
from the module that defines a name when that module's ``__all__`` lists it and the name is
in ``__all__`` below (the CLI does, to keep ``--help`` and ``playbook check`` from loading
the engine). tests/test_public_surface.py walks every adapter module and fails on any
other import from ``bot``, on a ``_private`` name, and on a name read through a module of
the surface (``ev.X``, ``cards.X``) that the module does not list.

Why a module and not ``bot/__init__.py``: the package's ``__init__`` runs on every import
of any ``bot.*`` module. Re-exporting the engine there would load SQLAlchemy, pydantic and
every feature for each of them (Alembic's env.py importing the models, a delivery worker,
the CLI's cheap commands), and would tie every core module into one import circle through
the package (``bot.engine`` -> ``bot.events`` -> ``bot/__init__`` -> ``bot.engine``).
Nothing inside ``bot/`` imports this module, so the core stays acyclic and the surface is
one list, read in one place.

Four modules are part of the surface as modules, because adapters name many of their
members: ``events`` (what a person did), ``cards`` (what the core shows), ``intents`` and
``codec`` (what a component id stands for).
"""

from __future__ import annotations

from bot import events
from bot.advice.lint import lint_playbook
from bot.checkins.delivery import DeliveryConfig, DeliveryWorker
from bot.checkins.scheduler import CheckInService
from bot.checkins.sender import CheckInSender, Delivered, RetryAfter, SendResult, Unreachable
from bot.commands import DISCORD_COMMAND, command
from bot.core.actions import Click
from bot.core.reply import Outcome, Reply
from bot.engine import Engine
from bot.events import InEvent, UserRef
from bot.logging_setup import configure_logging
from bot.mentors.service import MentorService
from bot.playbook.loader import PlaybookError, PlaybookRegistry, load_playbook
from bot.ports import (
    BoardPost,
    Introduced,
    Introduction,
    Mention,
    MentorBoard,
    Notification,
    PostRef,
)
from bot.settings import Settings, SettingsError, load_settings, unknown_variables
from bot.store.database import Database, StoreUnavailable
from bot.store.migrate import current_revision, head_revision, upgrade
from bot.ui import cards, codec, intents
from bot.ui.blocks import notice
from bot.ui.budgets import clip, split, units
from bot.ui.cards import (
    Action,
    Actions,
    Attachment,
    BaseSection,
    Bullets,
    Card,
    Choices,
    Context,
    Field,
    Fields,
    Option,
    Prose,
    Section,
    Step,
    Steps,
    Style,
    Table,
    TextEntry,
    Tone,
    lower,
)
from bot.ui.codec import Opener, Unencodable
from bot.ui.intents import Intent
from bot.validation import clean_text, whole_number

__all__ = [  # noqa: RUF022 - grouped by what an adapter does with them
    # the core, and what every call returns
    "Engine",
    "Reply",
    "Outcome",
    "Click",
    # what a person did (the module, and the two names every adapter needs)
    "events",
    "InEvent",
    "UserRef",
    # what the core shows: cards of sections, rendered generically
    "cards",
    "Card",
    "Tone",
    "Style",
    "Section",
    "BaseSection",
    "lower",
    "Prose",
    "Bullets",
    "Field",
    "Fields",
    "Step",
    "Steps",
    "Option",
    "Choices",
    "TextEntry",
    "Action",
    "Actions",
    "Context",
    "Table",
    "Attachment",
    "notice",
    # text measured as the platforms count it
    "clip",
    "split",
    "units",
    "clean_text",
    "whole_number",
    # component ids
    "intents",
    "Intent",
    "codec",
    "Opener",
    "Unencodable",
    # ports: what a platform implements for the core
    "Notification",
    "CheckInSender",
    "SendResult",
    "Delivered",
    "RetryAfter",
    "Unreachable",
    "MentorBoard",
    "BoardPost",
    "Introduction",
    "Introduced",
    "Mention",
    "PostRef",
    # running: settings, the database, check-ins, logging
    "Settings",
    "SettingsError",
    "load_settings",
    "unknown_variables",
    "Database",
    "StoreUnavailable",
    "upgrade",
    "current_revision",
    "head_revision",
    "DeliveryConfig",
    "DeliveryWorker",
    "CheckInService",
    "MentorService",
    "configure_logging",
    # playbooks (the CLI's check and list)
    "PlaybookError",
    "PlaybookRegistry",
    "load_playbook",
    "lint_playbook",
    # how a command is spelled on each platform
    "DISCORD_COMMAND",
    "command",
]
