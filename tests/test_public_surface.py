"""Adapters use the core only through its public surface (bot/api.py).

Why: the adapters hold transport, one generic renderer and platform conventions; what they
may touch in the core is one list, ``bot.api.__all__``. An import of anything else (a
feature's helper, a presenter, a ``_private`` constant) is how advising logic leaks into an
adapter, so every adapter module is read here (its AST, not run) and each name it takes
from ``bot`` is checked:

* imported from ``bot.api``, or from the module that defines it when that module's
  ``__all__`` lists it (the CLI's cheap commands do this);
* in ``bot.api.__all__`` either way, and never ``_private``;
* a name read through a module of the surface (``ev.Start``, ``cards.Prose``) is in that
  module's ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

import bot.api

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = sorted((ROOT / "adapters").rglob("*.py"))
SURFACE = frozenset(bot.api.__all__)


def _from_bot(module: str) -> bool:
    return module == "bot" or module.startswith("bot.")


def violations(source: str) -> list[str]:
    """What in ``source`` (an adapter module) reaches past the core's public surface."""
    tree = ast.parse(source)
    out: list[str] = []
    modules: dict[str, ModuleType] = {}  # local name -> a module of the surface
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [
                f"line {node.lineno}: import {a.name} (take names from bot.api)"
                for a in node.names
                if _from_bot(a.name)
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and _from_bot(node.module):
            module = importlib.import_module(node.module)
            listed = getattr(module, "__all__", None)
            for alias in node.names:
                name, where = alias.name, f"line {node.lineno}: {node.module}.{alias.name}"
                if name.startswith("_") or name == "*":
                    out.append(f"{where} is private")
                elif name not in SURFACE:
                    out.append(f"{where} is not in bot.api.__all__")
                elif listed is None or name not in listed:
                    out.append(f"{where} is not in {node.module}.__all__")
                value = getattr(module, name, None)
                if isinstance(value, ModuleType):
                    modules[alias.asname or name] = value
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            module = modules[node.value.id]
            if node.attr not in getattr(module, "__all__", ()):
                out.append(
                    f"line {node.lineno}: {node.value.id}.{node.attr} is not in "
                    f"{module.__name__}.__all__"
                )
    return out


@pytest.mark.parametrize("path", ADAPTERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_import_only_the_public_surface(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_what_reaches_past_the_surface() -> None:
    source = """
from bot.api import Engine, cards as c, events as ev
from bot.core.actions import to_events
from bot.features.privacy import FORGET_ACTION
from bot.ui.presenters import _WHEN_TEXT
from bot.settings import Settings
import bot.engine

card = c.Card(title="fine")
start = ev.Start
c.section_texts(card)
ev.PlanItemView
"""
    assert violations(source) == [
        "line 3: bot.core.actions.to_events is not in bot.api.__all__",
        "line 4: bot.features.privacy.FORGET_ACTION is not in bot.api.__all__",
        "line 5: bot.ui.presenters._WHEN_TEXT is private",
        "line 7: import bot.engine (take names from bot.api)",
        "line 12: ev.PlanItemView is not in bot.events.__all__",
    ]


def test_the_surface_names_only_public_things_of_their_own_modules() -> None:
    assert len(bot.api.__all__) == len(SURFACE), "a name listed twice"
    for name in bot.api.__all__:
        assert not name.startswith("_")
        value = getattr(bot.api, name)
        if isinstance(value, ModuleType):
            assert hasattr(value, "__all__"), f"{value.__name__} has no __all__"
            continue
        home = getattr(value, "__module__", None)
        if isinstance(home, str) and home.startswith("bot."):
            assert name in importlib.import_module(home).__all__, f"{home} does not list {name}"


def test_nothing_in_the_core_imports_the_surface() -> None:
    """bot/api.py is a leaf: the core never goes through it, so it adds no import circle."""
    for path in sorted((ROOT / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "bot.api":
                pytest.fail(f"{path.relative_to(ROOT)} imports bot.api")
            if isinstance(node, ast.ImportFrom) and node.module == "bot":
                assert all(a.name != "api" for a in node.names), path
