"""The one id codec: every intent round-trips within Discord's 100 characters; anything
malformed, out of range or forged decodes to None (never an exception)."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ui import codec
from bot.ui import intents as it

IDS = st.integers(min_value=0, max_value=codec.MAX_INT)
TOKENS = st.from_regex(r"[a-z0-9_-]{0,40}", fullmatch=True)


def _strategy(cls: type[it.Intent]) -> st.SearchStrategy[it.Intent]:
    kinds = {"int": IDS, "bool": st.booleans(), "str": TOKENS}
    return st.builds(cls, **{f.name: kinds[str(f.type)] for f in fields(cls)})


ANY_INTENT = st.one_of(*(_strategy(cls) for cls in it.REGISTRY.values()))


@given(ANY_INTENT)
def test_every_intent_round_trips_within_discord_limits(intent: it.Intent) -> None:
    raw = codec.encode(intent)
    assert len(raw) <= 100
    assert codec.decode(raw) == intent
    assert codec.decode_opener(raw) is None  # a plain id never opens a text box


@given(ANY_INTENT, st.booleans(), st.integers(min_value=1, max_value=4000))
def test_openers_carry_the_text_box_spec(intent: it.Intent, optional: bool, size: int) -> None:
    raw = codec.encode_opener(intent, optional=optional, max_length=size)
    assert len(raw) <= 100
    opened = codec.decode_opener(raw)
    assert opened == codec.Opener(intent, optional, size)
    assert codec.decode(raw) is None  # an opener is not a submit


@pytest.mark.parametrize(
    "raw",
    [
        "x2:a:99999999999999999999:1:",  # beyond 64 bits
        "x2:a:9223372036854775808:1:",  # 2**63
        "x2:a:①:1:",  # a digit that is not ASCII
        "x2:a:²:1:",
        "x2:a:-1:1:",
        "x2:a:01:1:",  # no leading zeros: one id, one spelling
        "x2:a:1:1",  # a field missing
        "x2:a:1:1::",  # a field too many
        "x2:c:forget:2",  # a bool is 0 or 1
        "x2:q:1",  # unknown tag
        "x2:d:1:" + "p" * 65,  # an over-long token
        "x2:d:1:path id",  # a space
        "xr1:b:1:2:3:x:",  # the retired Discord codec
        "x2",
        "",
        "x2:a:1:1:" + "\x00",
        "x2eo0:a:1:1:",  # a text box of length 0
        "x2ex5:a:1:1:",
        "x" * 101,
    ],
)
def test_malformed_ids_decode_to_none(raw: str) -> None:
    assert codec.decode(raw) is None
    assert codec.decode_opener(raw) is None


@given(st.text(max_size=120))
def test_random_text_never_raises(raw: str) -> None:
    codec.decode(raw)
    codec.decode_opener(raw)


def test_non_strings_decode_to_none() -> None:
    for raw in (None, 12, b"x2:a:1:1:", ["x2:a:1:1:"]):
        assert codec.decode(raw) is None and codec.decode_opener(raw) is None


def test_a_presenter_bug_is_loud_not_silent() -> None:
    with pytest.raises(codec.Unencodable):
        codec.encode(it.OpenPath(consultation=1, path="has:colon"))
    with pytest.raises(codec.Unencodable):
        codec.encode(it.AnswerQuestion(consultation=-1, step=0))
    with pytest.raises(codec.Unencodable):
        codec.encode(it.OpenPath(consultation=codec.MAX_INT, path="p" * 64 + "x"))


def test_tags_are_unique_and_every_intent_is_registered() -> None:
    assert len(it.REGISTRY) == len(it.AnyIntent.__args__)  # type: ignore[attr-defined]
    assert all(cls.TAG for cls in it.REGISTRY.values())
