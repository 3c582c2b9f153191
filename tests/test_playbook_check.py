"""`crossroads playbook check`: every problem reported at its file, key path and line.

The broken playbooks are written into tmp_path by each test; their line numbers are the
lines of the texts below (line 1 is ``id: mini``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.cli import cli
from bot.playbook.loader import PlaybookError, PlaybookRegistry, load_playbook
from bot.settings import REPO_ROOT

CROSSROADS = Path(sys.executable).with_name("crossroads")
ISSUE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?: (?P<key>[\w.\[\]-]+):)? (?P<msg>.+)$")

VALID = """\
id: mini
version: 1
title: Mini
intro: Hi.
questions:
  - id: role
    kind: single_choice
    prompt: What are you?
    choices:
      - {id: student, label: Student}
      - {id: worker, label: Worker}
  - id: pay
    kind: scale
    prompt: How much does pay matter?
  - id: notes
    kind: free_text
    prompt: Anything else?
    when: {q: role, is: student}
criteria:
  - id: money
    label: Money
    weight: {question: pay}
paths:
  - id: study
    title: Study
    summary: Study more.
    ratings: {money: -1}
  - id: job
    title: Job
    summary: Get a job.
    ratings: {money: 1}
"""

# Unknown keys (typos) where a required key is expected: both problems, each at its line.
TYPOS = """\
id: mini
version: 1
title: Mini
intro: Hi.
questions:
  - id: role
    kind: single_choice
    promt: What are you?
    choices:
      - {id: student, label: Student}
      - {id: worker, label: Worker}
paths:
  - id: study
    title: Study
    summary: Study more.
    pros:
      - txt: You learn.
  - id: job
    title: Job
    summary: Get a job.
    sumary_extra: oops
"""
TYPOS_EXPECTED = {
    (6, "questions[0].prompt", "Field required"),
    (8, "questions[0].promt", "Extra inputs are not permitted"),
    (17, "paths[0].pros[0].text", "Field required"),
    (17, "paths[0].pros[0].txt", "Extra inputs are not permitted"),
    (21, "paths[1].sumary_extra", "Extra inputs are not permitted"),
}

# Cross-reference problems: unknown question, later question, unknown choice ids,
# a weight read from a question that is not a scale.
REFERENCES = """\
id: mini
version: 1
title: Mini
intro: Hi.
questions:
  - id: role
    kind: single_choice
    prompt: What are you?
    when: {q: pay, gte: 3}
    choices:
      - {id: student, label: Student}
      - {id: worker, label: Worker}
  - id: pay
    kind: scale
    prompt: How much does pay matter?
  - id: notes
    kind: free_text
    prompt: Anything else?
    when: {q: nosuch, answered: true}
  - id: more
    kind: free_text
    prompt: More?
    when: {q: role, is: teacher}
criteria:
  - id: money
    label: Money
    weight: {question: notes}
  - id: fun
    label: Fun
    weight: {question: ghost}
paths:
  - id: study
    title: Study
    summary: Study more.
    adjust:
      - when:
          any:
            - {q: role, in: [student, retired]}
            - {q: pay, gte: 4}
        score: 1
        because: Reason.
  - id: job
    title: Job
    summary: Get a job.
    ratings: {moneyy: 1}
"""
REFERENCES_EXPECTED = {
    (9, "questions[0].when", "question 'pay' comes later, so it cannot decide this"),
    (19, "questions[2].when", "unknown question 'nosuch'"),
    (23, "questions[3].when", "'teacher' is not a choice of question 'role'"),
    (27, "criteria[0].weight.question", "'notes' is not a scale question"),
    (30, "criteria[1].weight.question", "'ghost' is not a scale question"),
    # A block condition is located where its value starts (the `any:` line).
    (37, "paths[0].adjust[0].when", "'retired' is not a choice of question 'role'"),
    (45, "paths[1].ratings.moneyy", "unknown criterion 'moneyy'"),
}

DUPLICATES = """\
id: mini
version: 1
title: Mini
intro: Hi.
questions:
  - id: role
    kind: free_text
    prompt: What are you?
  - id: role
    kind: free_text
    prompt: Again?
paths:
  - id: study
    title: Study
    summary: Study more.
  - id: study
    title: Job
    summary: Get a job.
"""
DUPLICATES_EXPECTED = {
    (9, "questions[1].id", "duplicate question id 'role'"),
    (16, "paths[1].id", "duplicate path id 'study'"),
}

SHAPES = """\
id: mini
version: 1
title: Mini
intro: Hi.
questions:
  - id: role
    kind: single_choice
    prompt: What are you?
    choices:
      - {id: student, label: Student}
  - id: pay
    kind: scale
    prompt: Pay?
    scale_min: 5
    scale_max: 3
  - id: Bad Id
    kind: free_text
    prompt: Hm?
  - id: colour
    kind: free_text
    prompt: Colour?
    choices:
      - {id: red, label: Red}
paths:
  - id: only
    title: Only
    summary: Just one path.
"""
SHAPES_EXPECTED = {
    (6, "questions[0]", "a single_choice question needs at least two choices"),
    (11, "questions[1]", "a scale needs scale_min < scale_max <= 10"),
    (16, "questions[2].id", "String should match pattern"),
    (19, "questions[3]", "a free_text question takes no choices"),
    (25, "paths", "List should have at least 2 items"),
}

BAD_CONDITION = """\
id: mini
version: 1
title: Mini
intro: Hi.
questions:
  - id: role
    kind: single_choice
    prompt: What are you?
    choices:
      - {id: student, label: Student}
      - {id: worker, label: Worker}
  - id: notes
    kind: free_text
    prompt: Anything else?
    when: {q: role, iz: student}
paths:
  - id: study
    title: Study
    summary: Study more.
  - id: job
    title: Job
    summary: Get a job.
    when: {q: role}
"""
BAD_CONDITION_EXPECTED = {
    (15, "questions[1].when.iz", "Extra inputs are not permitted"),
    (23, "paths[1].when", "a condition on q needs exactly one of"),
}

BAD_YAML = """\
id: mini
version: 1
title: Mini
intro: Hi.
questions:
  - id: role
     kind: single_choice
    prompt: What are you?
"""
BAD_YAML_EXPECTED = {(7, "", "not valid YAML: mapping values are not allowed here")}

BAD_YAML_FLOW = """\
id: mini
version: 1
title: [Mini
intro: Hi.
"""
BAD_YAML_FLOW_EXPECTED = {(4, "", "not valid YAML: expected ',' or ']', but got ':'")}

BROKEN = {
    "typos.yaml": (TYPOS, TYPOS_EXPECTED),
    "references.yaml": (REFERENCES, REFERENCES_EXPECTED),
    "duplicates.yaml": (DUPLICATES, DUPLICATES_EXPECTED),
    "shapes.yaml": (SHAPES, SHAPES_EXPECTED),
    "condition.yaml": (BAD_CONDITION, BAD_CONDITION_EXPECTED),
    "bad_yaml.yaml": (BAD_YAML, BAD_YAML_EXPECTED),
    "bad_flow.yaml": (BAD_YAML_FLOW, BAD_YAML_FLOW_EXPECTED),
}


def _check(*files: Path) -> Result:
    result = CliRunner().invoke(cli, ["playbook", "check", *map(str, files)])
    # Exit 0 leaves no exception; any other code must be a deliberate exit, not a crash.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _issues(output: str, file: Path) -> set[tuple[int, str, str]]:
    """(line, key path, message) of every issue printed for ``file``."""
    found = set()
    for text in output.splitlines():
        m = ISSUE.match(text)
        if m and m["file"] == str(file):
            found.add((int(m["line"]), m["key"] or "", m["msg"]))
    return found


def _matches(found: set[tuple[int, str, str]], expected: set[tuple[int, str, str]]) -> bool:
    """Same (line, key) pairs, and each message contains the expected words."""
    if {(line, key) for line, key, _ in found} != {(line, key) for line, key, _ in expected}:
        return False
    return all(
        any(fl == el and fk == ek and em in fm for fl, fk, fm in found) for el, ek, em in expected
    )


# --------------------------------------------------------------------------- the command


def test_valid_file_is_ok(tmp_path: Path) -> None:
    file = tmp_path / "mini.yaml"
    file.write_text(VALID, encoding="utf-8")
    result = _check(file)
    assert result.exit_code == 0
    assert result.output == f"{file}: ok (mini v1: 3 questions, 2 paths)\n"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_reports_every_problem_with_line_and_key(tmp_path: Path, name: str) -> None:
    text, expected = BROKEN[name]
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    result = _check(file)
    assert result.exit_code == 1
    found = _issues(result.output, file)
    assert _matches(found, expected), f"got {sorted(found)}\nwanted {sorted(expected)}"
    # Nothing else was printed: every line of output is one located issue.
    assert len(result.output.splitlines()) == len(found)
    assert ": ok (" not in result.output


def test_several_files_at_once_report_all_of_them(tmp_path: Path) -> None:
    files = []
    good = tmp_path / "good.yaml"
    good.write_text(VALID, encoding="utf-8")
    for name in ("typos.yaml", "duplicates.yaml", "bad_yaml.yaml"):
        file = tmp_path / name
        file.write_text(BROKEN[name][0], encoding="utf-8")
        files.append(file)
    result = _check(files[0], good, *files[1:])
    assert result.exit_code == 1
    assert f"{good}: ok (mini v1" in result.output
    for file in files:
        assert _matches(_issues(result.output, file), BROKEN[file.name][1]), file.name
    # Reported in the order given.
    order = [result.output.index(str(f)) for f in (files[0], good, *files[1:])]
    assert order == sorted(order)


def test_missing_unreadable_and_non_mapping_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"id: \xff\xfe\n")
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n", encoding="utf-8")
    result = _check(missing, binary, empty, listing, tmp_path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{missing}: cannot read:")
    assert "No such file" in lines[0]
    assert lines[1].startswith(f"{binary}: cannot read:")
    assert "utf-8" in lines[1]
    assert lines[2] == f"{empty}:1: a playbook must be a YAML mapping"
    assert lines[3] == f"{listing}:1: a playbook must be a YAML mapping"
    assert lines[4].startswith(f"{tmp_path}: cannot read:")
    assert len(lines) == 5


def test_no_file_given_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["playbook", "check"])
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_the_real_console_script(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(VALID, encoding="utf-8")
    bad = tmp_path / "references.yaml"
    bad.write_text(REFERENCES, encoding="utf-8")
    done = subprocess.run(
        [str(CROSSROADS), "playbook", "check", str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert f"{good}: ok" in done.stdout
    assert _matches(_issues(done.stdout, bad), REFERENCES_EXPECTED)


# --------------------------------------------------------------------------- the registry


def test_registry_refuses_a_folder_with_one_invalid_file(tmp_path: Path) -> None:
    (tmp_path / "a_good.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b_bad.yaml").write_text(DUPLICATES.replace("id: mini", "id: other"), "utf-8")
    with pytest.raises(PlaybookError) as caught:
        PlaybookRegistry.from_directory(tmp_path)
    issues = caught.value.issues
    assert {(i.file, i.key_path, i.line) for i in issues} == {
        (str(tmp_path / "b_bad.yaml"), "questions[1].id", 9),
        (str(tmp_path / "b_bad.yaml"), "paths[1].id", 16),
    }
    assert str(tmp_path / "b_bad.yaml") + ":9: questions[1].id:" in str(caught.value)


def test_registry_collects_problems_from_every_file(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(BAD_YAML, encoding="utf-8")
    (tmp_path / "two.yml").write_text(SHAPES, encoding="utf-8")
    with pytest.raises(PlaybookError) as caught:
        PlaybookRegistry.from_directory(tmp_path)
    files = {i.file for i in caught.value.issues}
    assert files == {str(tmp_path / "one.yaml"), str(tmp_path / "two.yml")}
    assert len(caught.value.issues) == 1 + len(SHAPES_EXPECTED)


def test_registry_refuses_two_files_with_the_same_id(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(VALID, encoding="utf-8")
    with pytest.raises(PlaybookError, match=r"b\.yaml:1: id: id 'mini' is also used by"):
        PlaybookRegistry.from_directory(tmp_path)


def test_registry_refuses_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="no playbook files"):
        PlaybookRegistry.from_directory(tmp_path)


def test_registry_loads_a_valid_folder(tmp_path: Path) -> None:
    (tmp_path / "mini.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a playbook", encoding="utf-8")
    registry = PlaybookRegistry.from_directory(tmp_path)
    assert registry.ids() == ["mini"]
    mini = registry.get("mini")
    assert mini is not None
    assert [q.id for q in mini.questions] == ["role", "pay", "notes"]


def test_bot_refuses_to_start_with_an_invalid_playbook(tmp_path: Path) -> None:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "mini.yaml").write_text(VALID, encoding="utf-8")
    broken = playbooks / "broken.yaml"
    broken.write_text(TYPOS.replace("id: mini", "id: broken"), encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CROSSROADS_") and k not in ("DATABASE_URL", "DISCORD_TOKEN")
    }
    env.update(
        CROSSROADS_DATA_DIR=str(tmp_path / "data"),
        CROSSROADS_PLAYBOOKS_DIR=str(playbooks),
        CROSSROADS_DEFAULT_PLAYBOOK="mini",
    )
    done = subprocess.run(
        [str(CROSSROADS), "console", "--user", "x"],
        input="1\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout == ""  # no consultation began
    assert "crossroads: refusing to start: a playbook is invalid:" in done.stderr
    assert f"{broken}:8: questions[0].promt: Extra inputs are not permitted" in done.stderr
    assert f"{broken}:6: questions[0].prompt: Field required" in done.stderr
    assert str(playbooks / "mini.yaml") not in done.stderr


# --------------------------------------------------------------------------- shipped playbooks


SHIPPED = sorted((REPO_ROOT / "config" / "playbooks").glob("*.y*ml"))


@pytest.mark.parametrize(
    "file",
    SHIPPED
    or [pytest.param(None, marks=pytest.mark.skip(reason="config/playbooks/ has no files yet"))],
    ids=lambda f: f.name if isinstance(f, Path) else "none",
)
def test_shipped_playbook_loads_cleanly(file: Path) -> None:
    playbook = load_playbook(file)
    assert playbook.questions and len(playbook.paths) >= 2
    result = _check(file)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{file}: ok ({playbook.id} v{playbook.version}:")


@pytest.mark.skipif(not SHIPPED, reason="config/playbooks/ has no files yet")
def test_shipped_folder_loads_as_a_registry() -> None:
    registry = PlaybookRegistry.from_directory(REPO_ROOT / "config" / "playbooks")
    assert len(registry.ids()) == len(SHIPPED)
