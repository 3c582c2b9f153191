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

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Answers = Mapping[str, Any]
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
    if cond is None:
        return True
    if cond.all is not None:
        return all(evaluate(c, answers) for c in cond.all)
    if cond.any is not None:
        return any(evaluate(c, answers) for c in cond.any)
    if cond.not_ is not None:
        return not evaluate(cond.not_, answers)
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
