"""Reading playbook files, with every error reported at its file, key path and line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from bot.playbook.schema import Loc, Playbook, validate_references

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


_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_playbook(text: str, source: str) -> Playbook:
    """Validate one playbook document, raising PlaybookError with every problem in it."""
    try:
        # libyaml's C parser when present (ten times faster); the node tree with line
        # numbers is composed only when there is a problem to point at.
        try:
            data = yaml.load(text, Loader=_FAST_LOADER)
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
    return playbook


def _unique(issues: Iterable[PlaybookIssue]) -> list[PlaybookIssue]:
    seen: dict[tuple[str, str], PlaybookIssue] = {}
    for issue in issues:
        seen.setdefault((issue.key_path, issue.message), issue)
    return list(seen.values())


def load_playbook(path: FsPath) -> Playbook:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError([PlaybookIssue(str(path), "", None, f"cannot read: {exc}")]) from None
    return parse_playbook(text, str(path))


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
    def from_directory(cls, directory: FsPath) -> PlaybookRegistry:
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
                pb = load_playbook(file)
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
