"""`playbook check` for the advice constructs: every broken reference at its key path and line.

Each case edits one line of tests/playbooks/advice.yaml; the problem must be reported at
that line (or the line of its key), with a message that names what is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.playbook.loader import PlaybookError, parse_playbook

SOURCE = (Path(__file__).parent / "playbooks" / "advice.yaml").read_text(encoding="utf-8")

# (text to replace, replacement, key path reported, words in the message)
CASES = {
    "unknown family": (
        "    family: bridge\n    title: Another",
        "    family: bridges\n    title: Another",
        "paths[2].family",
        "unknown family 'bridges'",
    ),
    "path without a family": (
        "  - id: industry\n    family: industry\n",
        "  - id: industry\n",
        "paths[3]",
        "give the path one",
    ),
    "unknown calendar id": (
        "        before: na_deadlines",
        "        before: na_deadline",
        "paths[0].next_steps[2].before",
        "unknown calendar id 'na_deadline'",
    ),
    "calendar day that does not exist": (
        "    month: 12\n    day: 1\n",
        "    month: 2\n    day: 30\n",
        "calendar[1]",
        "month 2 has no day 30",
    ),
    "both kinds of date on a step": (
        "      - text: Send your applications to European groups.\n        before: eu_calls\n",
        "      - text: Send your applications to European groups.\n        before: eu_calls\n"
        "        due_in_days: 3\n",
        "paths[0].next_steps[1]",
        "either due_in_days or before",
    ),
    "route choice naming an unknown path": (
        "paths: [phd_ml]}",
        "paths: [phd_mlx]}",
        "questions[4].choices[1].paths[0]",
        "unknown path 'phd_mlx'",
    ),
    "topic choice naming an unknown topic": (
        "topics: [domain_value]}",
        "topics: [domain_valu]}",
        "questions[5].choices[1].topics[0]",
        "unknown topic 'domain_valu'",
    ),
    "paths on a question without the routes role": (
        "    role: routes\n",
        "",
        "questions[4]",
        "paths are only for the role: routes question",
    ),
    "undecided not a choice": (
        "    undecided: [unsure]",
        "    undecided: [dunno]",
        "questions[0]",
        "'dunno' is not a choice",
    ),
    "topic answer without a fallback": (
        '      - text: "It is an asset where ML meets your field, less so in core ML."',
        '      - when: {q: field, is: cs}\n        text: "It is an asset."',
        "topics[1].answer[1].when",
        "needs no `when`",
    ),
    "topic linking an unknown path": (
        "    paths: [masters_first]",
        "    paths: [masters]",
        "topics[0].paths[0]",
        "unknown path 'masters'",
    ),
    "topic condition on an unknown choice": (
        "    when: {q: degree, is: master}\n    answer:",
        "    when: {q: degree, is: doctorate}\n    answer:",
        "topics[0].when",
        "'doctorate' is not a choice of question 'degree'",
    ),
    "bad regex": (
        '["domain knowledge"]',
        '["domain (knowledge"]',
        "cues[3].match[0]",
        "not a valid regular expression",
    ),
    "cue setting a choice that does not exist": (
        "set: {q: goal, value: applied}",
        "set: {q: goal, value: industry}",
        "cues[0].set.value",
        "'industry' is not a choice of question 'goal'",
    ),
    "cue setting a scale out of range": (
        "negated: {q: safety, value: 1}",
        "negated: {q: safety, value: 9}",
        "cues[5].negated.value",
        "whole number 1-5",
    ),
    "cue naming an unknown topic": (
        "topic: domain_value",
        "topic: domain",
        "cues[3].topic",
        "unknown topic 'domain'",
    ),
    "cue naming an unknown route": (
        "route: phd_domain",
        "route: phd_hep",
        "cues[4].route",
        "'phd_hep' is not a choice of question 'routes'",
    ),
    "cue with two effects": (
        "    topic: second_masters\n",
        "    topic: second_masters\n    route: phd_ml\n",
        "cues[2]",
        "exactly one of set / topic / route",
    ),
    "verdict without a fallback": (
        '      - text: "A sound step after a bachelor\'s."',
        '      - when: {q: degree, is: bachelor}\n        text: "A sound step."',
        "paths[2].verdict[1].when",
        "needs no `when`",
    ),
}


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_test_playbook_is_valid() -> None:
    pb = parse_playbook(SOURCE, "advice.yaml")
    assert [f.id for f in pb.families] == ["doctorate", "bridge", "industry"]
    assert pb.role_question("routes") is not None and pb.role_question("topics") is not None


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_broken_reference_is_reported_where_it_is(name: str) -> None:
    old, new, key, words = CASES[name]
    assert SOURCE.count(old) == 1, "the case must edit exactly one place"
    text = SOURCE.replace(old, new)
    with pytest.raises(PlaybookError) as exc:
        parse_playbook(text, "advice.yaml")
    found = [i for i in exc.value.issues if i.key_path == key and words in i.message]
    assert found, f"wanted {key}: {words}; got {[str(i) for i in exc.value.issues]}"
    # The reported line lies inside the edited text (or at the key that holds it).
    start = _line_of(SOURCE, old)
    assert found[0].line is not None
    assert start - 12 <= found[0].line <= start + new.count("\n") + 1


def test_version_1_documents_still_validate() -> None:
    from bot.settings import REPO_ROOT

    for name in ("ml-research-career", "phd-offer-choice"):
        text = (REPO_ROOT / "config" / "playbooks" / f"{name}.yaml").read_text(encoding="utf-8")
        parse_playbook(text, name)


def test_a_stored_document_validates_again() -> None:
    # playbook_versions.document keeps model_dump output; loading it back must work.
    from bot.playbook.schema import Playbook

    pb = parse_playbook(SOURCE, "advice.yaml")
    again = Playbook.model_validate(pb.model_dump(mode="json", by_alias=True))
    assert again == pb
