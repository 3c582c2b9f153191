"""Reading playbook files, with every error reported at its file, key path and line.

Start-up reads the same files every time, and parsing the YAML and checking every
cross-reference (compiling each cue's regular expressions) was most of a console's first
second. So a process that runs the bot (``PlaybookRegistry.from_directory(..., cache_dir=)``)
keeps, per file, the parsed document as JSON in its data directory, named by a hash of the
file's bytes and of the code that judges a playbook (this module, the schema, the
conditions, pydantic's version). A later start with the same file and the same code reads
the JSON (no YAML, no regular expressions) and still validates it with the schema; any
other file, or an edited one, is read and checked in full, and an invalid playbook is
never cached, so its errors keep their line numbers. ``crossroads playbook check`` and
``lint`` never use the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bot.playbook import conditions, schema
from bot.playbook.schema import Loc, Playbook, validate_references

if TYPE_CHECKING:
    import yaml

__all__ = [
    "PlaybookError",
    "PlaybookIssue",
    "PlaybookRegistry",
    "load_playbook",
    "parse_playbook",
    "playbook_digest",
]


@dataclass(frozen=True, slots=True)
class PlaybookIssue:
    file: str
    key_path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key_path}:" if self.key_path else ""
        return f"{where}:{key} {self.message}"


class PlaybookError(Exception):
    """A playbook is unusable; ``issues`` lists every problem found, not just the first."""

    def __init__(self, issues: list[PlaybookIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def _key_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node: yaml.Node | None, loc: Loc) -> int | None:
    """Walk the composed YAML tree along ``loc``; the deepest node found gives the line."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
            if child is None:
                key = next((k for k, _ in node.value if getattr(k, "value", None) == part), None)
                return key.start_mark.line + 1 if key is not None else line
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    # pydantic adds model/union tags to locations ('Condition', 'function-after[...]'); drop them.
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in p and p[:1].islower()))


def parse_playbook(text: str, source: str) -> Playbook:
    """Validate one playbook document, raising PlaybookError with every problem in it."""
    return _parse(text, source)[0]


def _parse(text: str, source: str) -> tuple[Playbook, Any]:
    """The playbook and the document it was validated from (plain YAML data)."""
    import yaml  # only here: a start-up that finds its playbooks cached never imports it

    fast_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        # libyaml's C parser when present (ten times faster); the node tree with line
        # numbers is composed only when there is a problem to point at.
        try:
            data = yaml.load(text, Loader=fast_loader)
        except yaml.YAMLError:
            data = yaml.safe_load(text)  # the pure-Python parser words its errors better
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlaybookError(
            [PlaybookIssue(source, "", line, f"not valid YAML: {problem}")]
        ) from None
    if not isinstance(data, dict):
        raise PlaybookError([PlaybookIssue(source, "", 1, "a playbook must be a YAML mapping")])
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        issues = []
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            issues.append(PlaybookIssue(source, _key_path(loc), _line_of(node, loc), msg))
        raise PlaybookError(_unique(issues)) from None
    problems = validate_references(playbook)
    if problems:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raise PlaybookError(
            [
                PlaybookIssue(source, _key_path(loc), _line_of(node, loc), msg)
                for loc, msg in problems
            ]
        )
    return playbook, data


def _unique(issues: Iterable[PlaybookIssue]) -> list[PlaybookIssue]:
    seen: dict[tuple[str, str], PlaybookIssue] = {}
    for issue in issues:
        seen.setdefault((issue.key_path, issue.message), issue)
    return list(seen.values())


def load_playbook(path: FsPath, *, cache_dir: FsPath | None = None) -> Playbook:
    """The playbook in ``path``; with ``cache_dir``, through the validated-document cache
    (see the module's docstring): the same playbook, or the same PlaybookError, either way."""
    if cache_dir is not None:
        with contextlib.suppress(OSError):
            entry = cache_dir / f"{path.stem}-{_cache_key(path.read_bytes())}.json"
            cached = _read_cached(entry)
            if cached is not None:
                return cached
            playbook, data = _parse(_read_text(path), str(path))
            _write_cached(entry, data)
            return playbook
    return parse_playbook(_read_text(path), str(path))


def _read_text(path: FsPath) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError([PlaybookIssue(str(path), "", None, f"cannot read: {exc}")]) from None


@cache
def _code_fingerprint() -> bytes:
    """What decides whether a document is a valid playbook, besides the document."""
    import pydantic

    digest = hashlib.sha256(f"{sys.version}|{pydantic.VERSION}".encode())
    for module in (sys.modules[__name__], schema, conditions):
        if module.__file__ is not None:
            with contextlib.suppress(OSError):
                digest.update(FsPath(module.__file__).read_bytes())
    return digest.digest()


def _cache_key(raw: bytes) -> str:
    return hashlib.sha256(_code_fingerprint() + raw).hexdigest()


def _read_cached(entry: FsPath) -> Playbook | None:
    try:
        data = json.loads(entry.read_bytes())
        # The schema's own checks run as always; the cross-references passed for these
        # very bytes under this very code when the entry was written.
        return Playbook.model_validate(data)
    except (OSError, ValueError):  # absent, unreadable, or not what we wrote: read the file
        return None


def _write_cached(entry: FsPath, data: Any) -> None:
    """Keep the document for the next start, if JSON holds it exactly (best effort)."""
    try:
        blob = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if json.loads(blob) != data:  # YAML dates, non-string keys: not worth caching
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        tmp.write_text(blob, encoding="utf-8")
        os.replace(tmp, entry)  # a concurrent starter reads the whole entry or none
        stem = entry.name.rpartition("-")[0]
        for old in entry.parent.glob(f"{stem}-*.json"):  # the file's earlier versions
            if old != entry and len(old.name) == len(entry.name):
                old.unlink(missing_ok=True)
    except (OSError, TypeError, ValueError):
        return


def playbook_digest(playbook: Playbook) -> str:
    """A content hash, to notice a playbook edited without a version bump."""
    blob = json.dumps(playbook.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class PlaybookRegistry:
    """The playbooks in a folder, keyed by id; refuses to exist if any of them is invalid."""

    def __init__(self, playbooks: Iterable[Playbook]) -> None:
        self._by_id: dict[str, Playbook] = {}
        for pb in playbooks:
            self._by_id[pb.id] = pb

    @classmethod
    def from_directory(
        cls, directory: FsPath, *, cache_dir: FsPath | None = None
    ) -> PlaybookRegistry:
        """Every playbook in ``directory``; ``cache_dir``: see the module's docstring."""
        files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
        if not files:
            raise PlaybookError(
                [PlaybookIssue(str(directory), "", None, "no playbook files (*.yaml) found")]
            )
        issues: list[PlaybookIssue] = []
        loaded: list[Playbook] = []
        seen: dict[str, FsPath] = {}
        for file in files:
            try:
                pb = load_playbook(file, cache_dir=cache_dir)
            except PlaybookError as exc:
                issues.extend(exc.issues)
                continue
            if pb.id in seen:
                issues.append(
                    PlaybookIssue(str(file), "id", 1, f"id {pb.id!r} is also used by {seen[pb.id]}")
                )
            seen[pb.id] = file
            loaded.append(pb)
        if issues:
            raise PlaybookError(issues)
        return cls(loaded)

    def get(self, playbook_id: str) -> Playbook | None:
        return self._by_id.get(playbook_id)

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def all(self) -> list[Playbook]:
        return [self._by_id[i] for i in self.ids()]
