"""The cue scanner finds exactly the matches ``re`` finds, on every cue pattern we ship,
and the cue reader built on it reads what reading every pattern with ``re`` reads.

``bot.advice.textscan`` skips patterns a text cannot match and tries anchored ones only
where they can start; a skip that was wrong would silently drop a pre-filled answer. So the
scanner is compared with ``re.compile(pattern, re.IGNORECASE).finditer`` match for match, on
the stories, on altered copies of them (case, characters that fold to ASCII letters,
punctuation glued to words) and on generated texts made of the patterns' own words.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.advice import cues
from bot.advice.cues import CueHits
from bot.advice.textscan import Scanned, plan, spaced
from bot.playbook.loader import load_playbook
from bot.playbook.schema import Playbook
from bot.settings import REPO_ROOT

PLAYBOOK_FILES = sorted((REPO_ROOT / "config" / "playbooks").glob("*.yaml")) + sorted(
    (Path(__file__).parent / "playbooks").glob("*.yaml")
)
PATTERNS = sorted(
    {
        p
        for f in PLAYBOOK_FILES
        for cue in load_playbook(f).cues
        for p in (*cue.match, *cue.unless, *cue.not_after)
    }
)
STORIES = [
    p.read_text(encoding="utf-8").replace("\u2019", "'").replace("\u2018", "'")
    for p in sorted((Path(__file__).parent / "stories").rglob("*.txt"))
]
WORDS = sorted({w for p in PATTERNS for w in re.findall(r"[a-z]{2,}", p)})


def altered(text: str, rng: random.Random) -> list[str]:
    cut = rng.randrange(len(text))
    return [
        text.upper(),
        text.swapcase(),
        # Characters re matches case-insensitively to ASCII letters: long s, Kelvin sign,
        # dotted and dotless i; a parenthesis glued to every word.
        text.replace("s", "\u017f").replace("k", "\u212a").replace("i", "\u0130"),
        text.replace("i", "\u0131").replace(" ", "("),
        text.replace(" ", "\u00a0").replace("a", "\u00e0"),
        text[cut : cut + rng.randrange(1, 300)],
    ]


def spans(pattern: str, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.compile(pattern, re.IGNORECASE).finditer(text)]


def test_the_patterns_are_read_and_most_are_shortcut() -> None:
    plans = [plan(p) for p in PATTERNS]
    assert len(PATTERNS) > 300
    assert sum(1 for p in plans if p.checks) > 0.9 * len(plans)
    assert sum(1 for p in plans if p.starts) > 0.2 * len(plans)


@pytest.mark.parametrize("index", range(len(STORIES)))
def test_every_pattern_matches_a_story_as_re_does(index: int) -> None:
    rng = random.Random(index)
    for text in [STORIES[index], *altered(STORIES[index], rng)]:
        scanned = Scanned(text)
        for pattern in PATTERNS:
            got = [m.span() for m in scanned.finditer(pattern)]
            assert got == spans(pattern, text), pattern
            assert (scanned.search(pattern) is not None) == bool(got)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.sampled_from(WORDS),
            st.sampled_from([" ", "  ", ", ", ". ", "-", "'", "(", "\n", "\u2014", "\u00e9"]),
            st.text(max_size=3),
        ),
        max_size=60,
    ),
    st.randoms(use_true_random=False),
)
def test_generated_texts_match_as_re_does(parts: list[str], rng: random.Random) -> None:
    text = "".join(p if rng.random() < 0.7 else p.upper() for p in parts)
    scanned = Scanned(text)
    for pattern in rng.sample(PATTERNS, 60):
        assert [m.span() for m in scanned.finditer(pattern)] == spans(pattern, text), pattern


def test_a_word_start_is_where_re_sees_one() -> None:
    # "\bai" is in "AI-based" and "(ai)", not in "said"; the Kelvin sign is a "k".
    assert spaced("said (AI)-based \u212aey caf\u00e9") == " said  ai  based key caf\x01"
    scanned = Scanned("she said so")
    assert list(scanned.finditer(r"\bai\b")) == []
    assert [m.span() for m in Scanned("(AI) said").finditer(r"\bai\b")] == [(1, 3)]
    assert [m.group() for m in Scanned("the \u212aTH lab").finditer(r"\bkth\b")] == ["\u212aTH"]


# The cue reader as it was before the scanner: every pattern run with re on the whole text.
def reference_read(pb: Playbook, raw: str) -> CueHits:
    text = raw.replace("\u2019", "'").replace("\u2018", "'")
    hits = CueHits()
    for cue in pb.cues:
        negated_only, matched = False, False
        for pattern in cue.match:
            for m in re.compile(pattern, re.IGNORECASE).finditer(text):
                window = cues._window(text, m.start())
                if any(re.search(p, window, re.IGNORECASE) for p in cue.not_after):
                    continue
                if not cues._negates(window):
                    matched = True
                    break
                negated_only = True
            if matched:
                break
        negated = negated_only and not matched
        if not (matched or negated) or any(re.search(p, text, re.IGNORECASE) for p in cue.unless):
            continue
        into = hits.weak if cue.weak else hits.sets
        if negated:
            if cue.negated is not None:
                into.append(cue.negated)
            continue
        if cue.set is not None:
            into.append(cue.set)
        if cue.topic is not None and cue.topic not in hits.topics:
            hits.topics.append(cue.topic)
        if cue.route is not None and cue.route not in hits.routes:
            hits.routes.append(cue.route)
    return hits


CUED = [load_playbook(f) for f in PLAYBOOK_FILES if load_playbook(f).cues]
SHORT_TEXTS = [
    "I worry that I am too old to start a PhD.",
    "answer 1 from user 7: " + "x" * 30,
    "I did a master's in physics at CERN, not in CS; I'd rather not do a PhD in ML.",
    "MSc particle physics, LHC, ATLAS experiment. Industry or academia?",
]


@pytest.mark.parametrize("pb", CUED, ids=lambda pb: pb.id)
def test_the_cue_reader_reads_what_re_reads(pb: Playbook) -> None:
    rng = random.Random(7)
    texts = [*STORIES, *SHORT_TEXTS]
    texts += [t[a : a + 200] for t in STORIES for a in [rng.randrange(len(t))]]
    for text in texts:
        assert cues._read(pb, cues._Text(text)) == reference_read(pb, text), text[:80]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from([*WORDS, "not", "don't", "but", ",", ".", "i'm a", "i am"]), max_size=40
    ),
    st.sampled_from(CUED),
)
def test_generated_texts_are_read_as_re_reads_them(words: list[str], pb: Playbook) -> None:
    text = " ".join(words)
    assert cues._read(pb, cues._Text(text)) == reference_read(pb, text)


# What the reader takes from a pattern: the strings every match must contain (one of each
# group: word prefixes, else substrings of the spaced text) and the word starts every match
# begins at. A text without them is skipped, so each group must be truly required; and a
# group the reader fails to find (a pattern run everywhere) is a shortcut lost.
PLANS = [
    (
        r"\bphysics (degree|major)",
        [([], (" physics ",)), ([], ("degree", "major"))],
        (" physics ",),
    ),
    (r"\bph\.?d in physics", [([], ("d in physics",)), (["ph"], ())], (" ph",)),
    (r"\bai\b", [(["ai"], ())], (" ai",)),
    (r"(?a)\bai\b", [([], ("ai",))], None),  # ASCII \b: no word starts
    (
        r"\b(?:quant|trading) firm",
        [(["quant", "trading"], ()), (["firm"], ())],
        (" quant", " trading"),
    ),
    (r"\bdeep[- ]learning", [([], ("learning",)), (["deep"], ())], (" deep",)),
    (r"\b(?:x|yy)+z", [([], ("z",)), (["x", "yy"], ())], (" x", " yy")),
    # Repeated at least once counts, at least twice too; optional or starred parts do not.
    (r"(?:ab)+c", [([], ("ab",)), ([], ("c",))], None),
    (r"x(?:yz){2,}w", [([], ("yz",)), ([], ("w",)), ([], ("x",))], None),
    (r"(?:xy)?z", [([], ("z",))], None),
    (r"(?:xy)*z", [([], ("z",))], None),
    (r"safe(ty)? (job|route)", [([], ("safe",)), ([], ("job", "route"))], None),
    # A class is skipped; each branch gives its strongest group (longest, then fewest).
    (r"[ab]cd", [([], ("cd",))], None),
    (r"(?:ab[0-9]cdef|gh)x", [([], ("cdef", "gh")), ([], ("x",))], None),
    (r"(?:ab[0-9]cdef|ghij[0-9]kl)", [([], ("cdef", "ghij"))], None),
    (r"(?:quant|trad(?:ing|er)s?) firm", [(["firm"], ()), ([], ("quant", "trad"))], None),
    # A non-ASCII letter ends a string; an anchor or \s is no string.
    ("caf\u00e9 job", [(["job"], ()), ([], ("caf",))], None),
    (r"^\s*master", [([], ("master",))], None),
    (
        r"not (interested|keen) in (becoming )?a professor",
        [([], ("a professor",)), ([], ("interested", "keen")), ([], ("not ",)), ([], (" in ",))],
        None,
    ),
]


@pytest.mark.parametrize(("pattern", "checks", "starts"), PLANS)
def test_the_reader_finds_what_every_match_must_contain(
    pattern: str, checks: list[tuple[list[str], tuple[str, ...]]], starts: tuple[str, ...] | None
) -> None:
    p = plan(pattern)
    # (groups of the same strength come in no set order)
    assert sorted((sorted(c.prefixes), c.anywhere) for c in p.checks) == sorted(checks)
    assert p.starts == starts
    # And the texts it then skips are those re finds nothing in.
    for text in ("A physics degree", "a PhD in physics", "AI-based", "quant firms", "xyzyzw"):
        assert bool(list(Scanned(text).finditer(pattern))) == bool(spans(pattern, text))
