"""The small condition language playbooks use in ``when:``.

A condition is a mapping. Leaves test one question's answer::

    {q: degree, is: master}            {q: degree, in: [master, phd]}
    {q: degree, not_in: [bachelor]}    {q: pay, gte: 4}     {q: pay, lte: 2}
    {q: experience, has: papers}       {q: experience, has_any: [papers, thesis]}
    {q: constraints, answered: true}

and ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}`` combine them. An unanswered
question satisfies no leaf except ``answered: false``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Answers = Mapping[str, Any]
Test = Callable[[Answers], bool]
LEAF_OPS = ("is", "in", "not_in", "gte", "lte", "has", "has_any", "answered")


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    q: str | None = None
    is_: str | int | None = Field(None, alias="is")
    in_: list[str | int] | None = Field(None, alias="in")
    not_in: list[str | int] | None = None
    gte: int | None = None
    lte: int | None = None
    has: str | None = None
    has_any: list[str] | None = None
    answered: bool | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(None, alias="not")

    @model_validator(mode="after")
    def _one_shape(self) -> Condition:
        combinators = [n for n in ("all", "any", "not_") if getattr(self, n) is not None]
        ops = [
            n
            for n in ("is_", "in_", "not_in", "gte", "lte", "has", "has_any", "answered")
            if getattr(self, n) is not None
        ]
        if combinators:
            if len(combinators) > 1 or ops or self.q is not None:
                raise ValueError("use exactly one of all / any / not, with nothing beside it")
            return self
        if self.q is None:
            raise ValueError("a condition needs 'q' (a question id) or one of all / any / not")
        if len(ops) != 1:
            raise ValueError(f"a condition on q needs exactly one of: {', '.join(LEAF_OPS)}")
        return self

    def leaves(self) -> Iterator[Condition]:
        for group in (self.all, self.any):
            for child in group or ():
                yield from child.leaves()
        if self.not_ is not None:
            yield from self.not_.leaves()
        if self.q is not None:
            yield self

    def referenced_values(self) -> list[str | int]:
        """The choice ids this leaf compares against (for reference checks)."""
        values: list[str | int] = []
        if self.is_ is not None:
            values.append(self.is_)
        values.extend(self.in_ or ())
        values.extend(self.not_in or ())
        if self.has is not None:
            values.append(self.has)
        values.extend(self.has_any or ())
        return values


def evaluate(cond: Condition | None, answers: Answers) -> bool:
    """True when ``cond`` holds for ``answers``; no condition always holds."""
    return compiled(cond)(answers)


def interpret(cond: Condition | None, answers: Answers) -> bool:
    """``evaluate`` by walking the model: the definition the compiled form is tested against."""
    if cond is None:
        return True
    if cond.all is not None:
        return all(interpret(c, answers) for c in cond.all)
    if cond.any is not None:
        return any(interpret(c, answers) for c in cond.any)
    if cond.not_ is not None:
        return not interpret(cond.not_, answers)
    assert cond.q is not None
    value = answers.get(cond.q)
    if cond.answered is not None:
        return (value is not None) == cond.answered
    if value is None:
        return False
    if cond.is_ is not None:
        return value == cond.is_
    if cond.in_ is not None:
        return value in cond.in_
    if cond.not_in is not None:
        return value not in cond.not_in
    if cond.gte is not None:
        return isinstance(value, int) and value >= cond.gte
    if cond.lte is not None:
        return isinstance(value, int) and value <= cond.lte
    if cond.has is not None:
        return isinstance(value, list) and cond.has in value
    if cond.has_any is not None:
        return isinstance(value, list) and any(v in value for v in cond.has_any)
    return False


def _always(_answers: Answers) -> bool:
    return True


def compile_condition(cond: Condition | None) -> Test:
    """``cond`` as a function of the answers: the same truth as ``evaluate``, decided once.

    ``evaluate`` walks the model on every call (which of the dozen fields is set, then the
    operator); a playbook's conditions are evaluated thousands of times per recommendation
    (the what-if search re-ranks under every other answer), so the advice asks for each
    condition's compiled form once (``compiled``) and calls it instead.
    """
    if cond is None:
        return _always
    if cond.all is not None:
        parts = tuple(compile_condition(c) for c in cond.all)
        if len(parts) == 1:
            return parts[0]
        return lambda a: all(p(a) for p in parts)
    if cond.any is not None:
        parts = tuple(compile_condition(c) for c in cond.any)
        if len(parts) == 1:
            return parts[0]
        return lambda a: any(p(a) for p in parts)
    if cond.not_ is not None:
        inner = compile_condition(cond.not_)
        return lambda a: not inner(a)
    q = cond.q
    assert q is not None
    if cond.answered is not None:
        wanted = cond.answered
        return lambda a: (a.get(q) is not None) == wanted
    if cond.is_ is not None:
        target = cond.is_
        return lambda a: (v := a.get(q)) is not None and v == target
    if cond.in_ is not None:
        among = tuple(cond.in_)
        return lambda a: (v := a.get(q)) is not None and v in among
    if cond.not_in is not None:
        outside = tuple(cond.not_in)
        return lambda a: (v := a.get(q)) is not None and v not in outside
    if cond.gte is not None:
        low = cond.gte
        return lambda a: isinstance(v := a.get(q), int) and v >= low
    if cond.lte is not None:
        high = cond.lte
        return lambda a: isinstance(v := a.get(q), int) and v <= high
    if cond.has is not None:
        item = cond.has
        return lambda a: isinstance(v := a.get(q), list) and item in v
    if cond.has_any is not None:
        items = tuple(cond.has_any)
        return lambda a: isinstance(v := a.get(q), list) and any(i in v for i in items)
    return lambda a: False


def references(cond: Condition | None) -> frozenset[str]:
    """The question ids whose answers ``cond`` reads (nothing else can change its truth)."""
    if cond is None:
        return frozenset()
    return frozenset(leaf.q for leaf in cond.leaves() if leaf.q is not None)


# Compiled conditions, by object: a playbook's models are immutable and kept while in use
# (the entry holds the condition, so its id cannot be reused while the entry lives).
_COMPILED: dict[int, tuple[Condition, Test]] = {}
COMPILED_LIMIT = 50_000


def compiled(cond: Condition | None) -> Test:
    """``compile_condition(cond)``, compiled once per condition object."""
    if cond is None:
        return _always
    entry = _COMPILED.get(id(cond))
    if entry is not None and entry[0] is cond:
        return entry[1]
    if len(_COMPILED) >= COMPILED_LIMIT:
        _COMPILED.clear()
    test = compile_condition(cond)
    _COMPILED[id(cond)] = (cond, test)
    return test
