"""Behaviour the mutation run (scripts/mutation.sh) found untested: typed commands, check-in
replies and the store queries behind them, each checked as the person would see it."""

from __future__ import annotations
