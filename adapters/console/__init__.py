"""The terminal adapter: a consultation on standard input and output."""

from adapters.console.session import ConsoleSession

__all__ = ["ConsoleSession"]
