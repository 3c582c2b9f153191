"""Many case-insensitive patterns over one text, fast, with the results ``re`` gives.

Python's regular expressions get no fast scan for a case-insensitive pattern: the pattern is
tried at every position of the text. A playbook has ~400 cue patterns and a story ~1,000
characters, and most patterns cannot match a given story at all. ``Scanned(text)`` prepares
a text once; ``Scanned.finditer(pattern)`` then returns exactly the matches of
``re.compile(pattern, re.IGNORECASE).finditer(text)``, found with two shortcuts that follow
from the pattern's parse tree (read once per pattern by the stdlib's own parser):

* required strings: groups of strings such that every match contains one string of each
  group. A text without them cannot match, and the pattern is not run at all;
* anchor strings: strings every match starts with (``\\b(physics|maths) degree`` starts with
  a word beginning "physics" or "maths"). The pattern is then tried only where one of them
  occurs (``Pattern.match`` at that position, which sees the text before it as a search
  does), in order, each after the end of the previous match: a search would find the same.

Strings are compared on the text's *spaced* form: word characters (as ``\\w`` decides)
lower-cased, every other character a space, and a space in front, so that it has as many
characters as the text plus one. A non-ASCII letter becomes the ASCII letter it matches
case-insensitively (the Kelvin sign is a "k", a long s an "s"; ``re`` itself decides), or a
word character that no string contains. A string may start with a space where the pattern
has ``\\b`` before a word character: the start of a word (" ai" is in "ai" and "AI-based",
not in "said"). Only what every match must contain counts (optional parts, classes and
look-arounds are skipped), so the shortcuts can only ever skip positions that cannot match.
tests/test_textscan.py compares both with ``re`` on every cue pattern of the playbooks.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the stdlib's pattern parser (sre_parse before 3.11)
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["Scanned", "plan", "spaced"]

_LITERAL, _SUBPATTERN, _BRANCH = sre_parse.LITERAL, sre_parse.SUBPATTERN, sre_parse.BRANCH
_AT, _AT_BOUNDARY = sre_parse.AT, sre_parse.AT_BOUNDARY
_REPEATS = tuple(
    op
    for op in (
        sre_parse.MAX_REPEAT,
        sre_parse.MIN_REPEAT,
        getattr(sre_parse, "POSSESSIVE_REPEAT", None),
    )
    if op is not None
)
_WORD = re.compile(r"\w")
# (?a) or (?L) change what \b means: word starts are then not used for that pattern.
_OTHER_WORDS = re.compile(r"\(\?[a-zA-Z-]*[aL]")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_GROUPS = 4


def _spaced_char(c: str) -> str:
    if not _WORD.fullmatch(c):
        return " "
    if c.isascii():
        return c.lower()
    return next((x for x in _LETTERS if re.fullmatch(x, c, re.IGNORECASE)), "\x01")


_ASCII = {i: _spaced_char(chr(i)) for i in range(128)}
_OTHERS: dict[str, str] = {}
_OTHERS_LOCK = threading.Lock()


def spaced(text: str) -> str:
    """The text's spaced form (see above): one character per character, a space in front."""
    if text.isascii():
        return " " + text.translate(_ASCII)
    out = [" "]
    for c in text:
        if c.isascii():
            out.append(_ASCII[ord(c)])
            continue
        found = _OTHERS.get(c)
        if found is None:
            found = _spaced_char(c)
            with _OTHERS_LOCK:
                _OTHERS[c] = found
        out.append(found)
    return "".join(out)


# ------------------------------------------------------------------ reading a pattern


def _strength(group: frozenset[str]) -> tuple[int, int]:
    return (min(len(s.strip()) for s in group), -len(group))


def _best(groups: list[frozenset[str]]) -> frozenset[str] | None:
    return max(groups, key=_strength) if groups else None


def _needs(items: Any, boundary: bool, words: bool) -> list[frozenset[str]]:
    """Groups of strings, one of each in every match of ``items`` (a parsed sequence)."""
    groups: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is _LITERAL and av < 128:
            c = _ASCII[av]
            if not run and boundary and words and c != " ":
                run.append(" ")
            run.append(c)
            boundary = False
            continue
        if run:
            groups.append(frozenset({"".join(run)}))
            run = []
        if op is _AT:
            boundary = av is _AT_BOUNDARY
            continue
        if op is _SUBPATTERN:
            groups += _needs(av[-1], boundary, words)
        elif op is _BRANCH:
            options = [_best(_needs(alt, boundary, words)) for alt in av[1]]
            if options and all(o is not None for o in options):
                groups.append(frozenset().union(*options))  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:
            groups += _needs(av[2], boundary, words)
        boundary = False
    if run:
        groups.append(frozenset({"".join(run)}))
    return [g for g in groups if all(s.strip() for s in g)]


def _starts(items: Any, boundary: bool, words: bool) -> frozenset[str] | None:
    """Strings (spaced form) every match of ``items`` starts with; a leading space stands
    for the start of a word (the character before the match). None: not known."""
    seq = list(items)
    for i, (op, av) in enumerate(seq):
        if op is _AT:
            boundary = boundary or av is _AT_BOUNDARY
            continue
        if op is _LITERAL:
            run: list[str] = []
            for op2, av2 in seq[i:]:
                if op2 is not _LITERAL or av2 >= 128:
                    break
                run.append(_ASCII[av2])
            if not run or run[0] == " " or run[0] == "\x01":
                return None  # a non-word first character: no word start to anchor on
            if not (boundary and words):
                return None
            return frozenset({" " + "".join(run)})
        if op is _SUBPATTERN:
            return _starts(av[-1], boundary, words)
        if op is _BRANCH:
            options = [_starts(alt, boundary, words) for alt in av[1]]
            if not options or any(o is None for o in options):
                return None
            return frozenset().union(*options)  # type: ignore[arg-type]
        if op in _REPEATS and av[0] >= 1:
            return _starts(av[2], boundary, words)
        return None
    return None


PREFIX = 10  # word prefixes a prepared text keeps in a set, up to this length


@dataclass(frozen=True, slots=True)
class Check:
    """One group of required strings, as a prepared text tests it: ``prefixes`` (a word
    begins with one: a set lookup), else ``anywhere`` (one is a substring of the text)."""

    prefixes: frozenset[str]
    anywhere: tuple[str, ...]


def _check(group: frozenset[str]) -> Check:
    prefixes: set[str] = set()
    anywhere: list[str] = []
    for string in sorted(group):
        rest = string[1:]
        if string[0] == " " and rest and " " not in rest:
            # A word beginning with ``rest``; a longer one still begins with its first part.
            prefixes.add(rest[:PREFIX])
        else:
            anywhere.append(string)
    return Check(frozenset(prefixes), tuple(anywhere))


@dataclass(frozen=True, slots=True)
class Plan:
    regex: re.Pattern[str]
    checks: tuple[Check, ...]  # every match contains one string of each group
    starts: tuple[str, ...] | None  # every match starts at a word beginning with one of these


@lru_cache(maxsize=4096)
def plan(pattern: str) -> Plan:
    regex = re.compile(pattern, re.IGNORECASE)
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
        words = not (parsed.state.flags & (re.ASCII | re.LOCALE)) and not (
            _OTHER_WORDS.search(pattern)
        )
        groups = sorted(set(_needs(parsed, False, words)), key=_strength, reverse=True)
        starts = _starts(parsed, False, words)
    except Exception:  # a pattern the reader does not follow is simply run everywhere
        return Plan(regex, (), None)
    checks = tuple(_check(g) for g in groups[:MAX_GROUPS])
    return Plan(regex, checks, tuple(sorted(starts)) if starts else None)


# ------------------------------------------------------------------ a prepared text

_WORD_START = re.compile(r"(?<= )[^ ]")


class Scanned:
    """A text prepared for many patterns."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spaced = spaced(text)
        self.prefixes = {
            w[:n] for w in set(self.spaced.split()) for n in range(1, min(len(w), PREFIX) + 1)
        }
        self._by_two: dict[str, list[int]] | None = None
        self._by_one: dict[str, list[int]] = {}

    def _index(self) -> dict[str, list[int]]:
        """Word starts (spaced positions) by their first two characters, and by the first."""
        if self._by_two is None:
            by_two: dict[str, list[int]] = {}
            by_one: dict[str, list[int]] = {}
            s = self.spaced
            for m in _WORD_START.finditer(s):
                k = m.start()
                by_two.setdefault(s[k : k + 2], []).append(k)
                by_one.setdefault(s[k], []).append(k)
            self._by_one = by_one
            self._by_two = by_two
        return self._by_two

    def _word_starts(self, rest: str) -> list[int]:
        """Spaced positions of the words that begin with ``rest``."""
        by_two = self._index()
        if len(rest) == 1:
            return self._by_one.get(rest, [])
        s = self.spaced
        return [k for k in by_two.get(rest[:2], ()) if s.startswith(rest, k)]

    def may_match(self, p: Plan) -> bool:
        """False only when the pattern cannot match anywhere in the text."""
        prefixes, text = self.prefixes, self.spaced
        for check in p.checks:
            if check.prefixes.isdisjoint(prefixes) and not any(s in text for s in check.anywhere):
                return False
        return True

    def finditer(self, pattern: str) -> Iterator[re.Match[str]]:
        """``re.compile(pattern, re.IGNORECASE).finditer(text)``, the same matches."""
        p = plan(pattern)
        if not self.may_match(p):
            return
        if p.starts is None:
            yield from p.regex.finditer(self.text)
            return
        # A word start at spaced position k is the character text[k - 1].
        candidates = sorted({k - 1 for rest in p.starts for k in self._word_starts(rest[1:])})
        end = 0
        for start in candidates:
            if start < end:
                continue
            m = p.regex.match(self.text, start)
            if m is not None:
                if m.end() == m.start():  # an empty match: let re decide what follows
                    yield from p.regex.finditer(self.text, start)
                    return
                yield m
                end = m.end()

    def search(self, pattern: str) -> re.Match[str] | None:
        """``re.compile(pattern, re.IGNORECASE).search(text)``."""
        return next(self.finditer(pattern), None)


# ------------------------------------------------------------------ many patterns at once

NGRAM = 4  # pieces of a short text the index looks up
SHORT = 400  # characters: a text up to this long has its pieces collected (cheap there)


class Index:
    """Patterns by a piece of text they need, so a text is tried on fewer of them.

    ``candidates(scanned)`` is every pattern that may match the text (a superset of those
    that do). One group of each pattern's required strings is indexed: a group whose strings
    all begin words by those word prefixes (" physics": a word beginning "physics"), any
    other group by its strings' first NGRAM characters, which are looked up in a short
    text's pieces (a long text tries those patterns anyway); a pattern with nothing required
    is always a candidate. A few set operations per text instead of a check per pattern.
    """

    def __init__(self, patterns: list[str]) -> None:
        self.always: set[str] = set()
        self.by_prefix: dict[str, set[str]] = {}
        self.by_piece: dict[str, set[str]] = {}
        self.pieced: set[str] = set()
        for pattern in dict.fromkeys(patterns):
            checks = plan(pattern).checks
            if not checks:
                self.always.add(pattern)
                continue
            words = [c for c in checks if c.prefixes and not c.anywhere]
            if words:
                best = max(words, key=lambda c: (min(map(len, c.prefixes)), -len(c.prefixes)))
                for prefix in best.prefixes:
                    self.by_prefix.setdefault(prefix, set()).add(pattern)
                continue
            best = max(checks, key=_piece_strength)
            for piece in _pieces(best):
                self.by_piece.setdefault(piece, set()).add(pattern)
            self.pieced.add(pattern)
        self.prefix_keys = frozenset(self.by_prefix)
        self.piece_keys = frozenset(self.by_piece)

    def candidates(self, scanned: Scanned) -> set[str]:
        found = set(self.always)
        for key in self.prefix_keys.intersection(scanned.prefixes):
            found |= self.by_prefix[key]
        if len(scanned.spaced) > SHORT:
            found |= self.pieced
            return found
        s = scanned.spaced
        pieces = {s[i : i + n] for n in range(1, NGRAM + 1) for i in range(len(s) - n + 1)}
        for key in self.piece_keys.intersection(pieces):
            found |= self.by_piece[key]
        return found


def _pieces(check: Check) -> list[str]:
    """What a text must contain for ``check`` to hold: " prefix" or a string's first part."""
    return [(" " + p)[:NGRAM] for p in check.prefixes] + [s[:NGRAM] for s in check.anywhere]


def _piece_strength(check: Check) -> tuple[int, int]:
    pieces = _pieces(check)
    return (min(map(len, pieces)), -len(pieces))
