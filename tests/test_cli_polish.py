"""The command line: --version, warnings for misspelt CROSSROADS_* variables, manifest URLs."""

from __future__ import annotations

from click.testing import CliRunner

from adapters.cli import cli
from bot.settings import setting_variables, unknown_variables


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("crossroads, version ")


def test_unknown_variables_are_named_with_the_nearest_setting() -> None:
    env = {
        "CROSSROADS_DATABSE_URL": "x",
        "CROSSROADS_SLACK_MOD": "http",
        "CROSSROADS_ZZZ": "1",
        "CROSSROADS_LOG_LEVEL": "INFO",  # a real one: no warning
        "CROSSROADS_CONFIG_DIR": "/x",  # read outside the settings: no warning
        "HOME": "/root",
    }
    said = unknown_variables(env)
    assert len(said) == 3
    assert any("CROSSROADS_DATABSE_URL" in s and "CROSSROADS_DATABASE_URL?" in s for s in said)
    assert any("CROSSROADS_SLACK_MOD" in s and "CROSSROADS_SLACK_MODE?" in s for s in said)
    assert any(s.startswith("CROSSROADS_ZZZ") and "did you mean" not in s for s in said)
    assert "CROSSROADS_DATABASE_URL" in setting_variables()


def test_a_misspelt_variable_is_warned_about_on_the_command_line(tmp_path) -> None:
    env = {"CROSSROADS_DEFAULT_PLAYBOK": "tiny", "CROSSROADS_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["playbook", "list"], env=env)
    assert result.exit_code == 0
    assert "CROSSROADS_DEFAULT_PLAYBOK" in result.output  # stderr is mixed in by CliRunner
    assert "did you mean CROSSROADS_DEFAULT_PLAYBOOK?" in result.output


def test_manifest_refuses_a_url_without_https() -> None:
    for bad in (
        "example.org",
        "http://example.org",
        "https://",
        "ftp://x.example",
        "https://x/?a=1",
    ):
        result = CliRunner().invoke(cli, ["slack", "manifest", "--url", bad])
        assert result.exit_code == 2, bad
        assert "https" in result.output and '"display_information"' not in result.output
    good = CliRunner().invoke(cli, ["slack", "manifest", "--url", "https://bot.example.org"])
    assert good.exit_code == 0 and "display_information" in good.output
