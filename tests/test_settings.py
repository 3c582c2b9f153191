"""Settings: bad values stop start-up with a clear message, secrets stay secret, env wins.

In-process tests clear every Crossroads variable with monkeypatch (restored after each
test) and point ``bot.settings.SETTINGS_FILE`` at a file of their own; a few run the real
``crossroads`` command in a subprocess, with an environment built from scratch.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import bot.settings as settings_mod
from adapters.cli import cli
from bot.settings import (
    REPO_ROOT,
    SECRET_FIELDS,
    Settings,
    SettingsError,
    _NonSecretToml,
    load_settings,
    normalise_database_url,
)

CROSSROADS = Path(sys.executable).with_name("crossroads")
TINY = Path(__file__).parent / "playbooks" / "tiny.yaml"
ALIASES = (
    "DATABASE_URL",
    "DISCORD_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
)
SECRETS = {
    "DISCORD_TOKEN": "discord-secret-Zq81.x",
    "SLACK_BOT_TOKEN": "xoxb-slack-secret-77",
    "SLACK_APP_TOKEN": "xapp-slack-secret-88",
    "SLACK_SIGNING_SECRET": "signing-secret-99",
    "SLACK_CLIENT_SECRET": "client-secret-66",
}


def _is_ours(name: str) -> bool:
    return name.startswith("CROSSROADS_") or name in ALIASES


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Crossroads variable from the outside, and a settings file of this test's own."""
    for name in list(os.environ):
        if _is_ours(name):
            monkeypatch.delenv(name)
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text("", encoding="utf-8")
    monkeypatch.setattr(settings_mod, "SETTINGS_FILE", settings_file)
    return settings_file


def _subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _is_ours(k)}
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir(exist_ok=True)
    (playbooks / "tiny.yaml").write_bytes(TINY.read_bytes())
    env.update(
        CROSSROADS_DATA_DIR=str(tmp_path / "data"),
        CROSSROADS_PLAYBOOKS_DIR=str(playbooks),
        CROSSROADS_DEFAULT_PLAYBOOK="tiny",
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra)
    return env


def _crossroads(
    tmp_path: Path, *args: str, stdin: bytes = b"", **env: str
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(CROSSROADS), *args],
        input=stdin,
        capture_output=True,
        env=_subprocess_env(tmp_path, **env),
        cwd=tmp_path,
        timeout=30,
        check=False,
    )
    out = subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
    assert "Traceback" not in out.stdout + out.stderr, out.stderr
    return out


# --------------------------------------------------------------------------- invalid values


INVALID = [
    ("CROSSROADS_LOG_LEVEL", "LOUD", "log_level", ["DEBUG", "INFO", "WARNING", "ERROR"]),
    ("CROSSROADS_DEFAULT_TIMEZONE", "Mars/Base", "default_timezone", ["IANA time zone"]),
    ("CROSSROADS_SLACK_HTTP_PORT", "0", "slack_http_port", ["greater than or equal to 1"]),
    ("CROSSROADS_SLACK_HTTP_PORT", "70000", "slack_http_port", ["less than or equal to 65535"]),
    ("DATABASE_URL", "mysql://x", "DATABASE_URL", ["sqlite:///", "postgresql://", "'mysql'"]),
    ("CROSSROADS_DATABASE_URL", "mysql://x", "DATABASE_URL", ["sqlite:///", "postgresql://"]),
    ("CROSSROADS_MAX_TEXT_LENGTH", "5", "max_text_length", ["greater than or equal to 10"]),
    ("CROSSROADS_SLACK_MODE", "carrier-pigeon", "slack_mode", ["'socket' or 'http'"]),
    ("CROSSROADS_DEFAULT_PLAYBOOK", "Not An Id", "default_playbook", ["lower-case letters"]),
    ("CROSSROADS_SLACK_COMMAND", "advise", "slack_command", ["slash command"]),
    ("CROSSROADS_QUIET_HOURS_START", "25:00", "quiet_hours_start", ["valid time"]),
    ("CROSSROADS_AUTO_MIGRATE", "perhaps", "auto_migrate", ["valid boolean"]),
    ("CROSSROADS_DISCORD_SHARD_IDS", "zero", "discord_shard_ids", ["JSON", "[0, 1]"]),
]


@pytest.mark.parametrize(("var", "value", "setting", "allowed"), INVALID)
def test_invalid_value_is_refused_naming_the_setting(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    var: str,
    value: str,
    setting: str,
    allowed: list[str],
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert setting in message
    if setting.islower():
        assert f"CROSSROADS_{setting.upper()}" in message  # the variable to fix
    for word in allowed:
        assert word in message
    assert "Value error" not in message  # pydantic's internal prefix is not for people


@pytest.mark.parametrize(("var", "value", "setting", "allowed"), INVALID)
def test_invalid_value_stops_the_console_before_it_starts(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    var: str,
    value: str,
    setting: str,
    allowed: list[str],
) -> None:
    monkeypatch.setenv("CROSSROADS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(var, value)
    result = CliRunner().invoke(cli, ["console", "--user", "x"], input="1\n")
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # not an uncaught error
    assert result.stdout == ""  # no consultation began
    assert result.stderr.startswith("crossroads: ")
    assert setting in result.stderr
    for word in allowed:
        assert word in result.stderr
    assert not (tmp_path / "data" / "crossroads.db").exists()


def test_several_invalid_values_are_all_reported(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSROADS_LOG_LEVEL", "LOUD")
    monkeypatch.setenv("CROSSROADS_DEFAULT_TIMEZONE", "Mars/Base")
    monkeypatch.setenv("CROSSROADS_SLACK_HTTP_PORT", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    for name in ("log_level", "default_timezone", "slack_http_port"):
        assert f"CROSSROADS_{name.upper()}" in message


def test_real_command_exits_2_with_the_message(tmp_path: Path) -> None:
    result = _crossroads(
        tmp_path, "console", "--user", "x", stdin=b"1\n", CROSSROADS_LOG_LEVEL="LOUD"
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "log_level (environment variable CROSSROADS_LOG_LEVEL)" in result.stderr
    assert "'DEBUG', 'INFO', 'WARNING' or 'ERROR'" in result.stderr


# --------------------------------------------------------------------------- secrets


def test_secrets_never_appear_in_repr_or_str(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bob:db-pass-42@127.0.0.1:5432/x")
    s = load_settings()
    assert s.discord_token is not None
    assert s.discord_token.get_secret_value() == SECRETS["DISCORD_TOKEN"]
    assert s.slack_bot_token is not None
    assert s.slack_bot_token.get_secret_value() == SECRETS["SLACK_BOT_TOKEN"]
    assert s.slack_signing_secret is not None
    assert s.slack_signing_secret.get_secret_value() == SECRETS["SLACK_SIGNING_SECRET"]
    shown = " ".join([repr(s), str(s), f"{s}", s.model_dump_json(), repr(s.model_dump())])
    for value in SECRETS.values():
        assert value not in shown
    assert "db-pass-42" not in repr(s) + str(s)
    assert s.resolved_database_url == "postgresql+asyncpg://bob:db-pass-42@127.0.0.1:5432/x"


def test_crossroads_prefixed_secret_names_work_too(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSROADS_DISCORD_TOKEN", "prefixed-token-1")
    s = load_settings()
    assert s.discord_enabled
    assert s.discord_token is not None
    assert s.discord_token.get_secret_value() == "prefixed-token-1"
    assert "prefixed-token-1" not in repr(s)


def test_blank_secret_counts_as_unset(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "   ")
    s = load_settings()
    assert s.discord_token is None
    assert not s.discord_enabled


def test_secrets_stay_out_of_an_error_about_another_setting(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CROSSROADS_LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    for value in SECRETS.values():
        assert value not in str(caught.value)


def test_secrets_stay_out_of_the_log(tmp_path: Path) -> None:
    result = _crossroads(
        tmp_path,
        "console",
        "--user",
        "x",
        stdin=b"1\n",
        CROSSROADS_LOG_LEVEL="DEBUG",
        **SECRETS,
    )
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "data" / "crossroads.log").read_text(encoding="utf-8")
    assert "crossroads ready" in log  # the log was written at DEBUG level
    for value in SECRETS.values():
        assert value not in log + result.stdout + result.stderr


@pytest.mark.parametrize("key", [*sorted(SECRET_FIELDS), "DISCORD_TOKEN"])
def test_secret_in_the_settings_file_is_refused(tmp_path: Path, key: str) -> None:
    file = tmp_path / "settings.toml"
    file.write_text(f'log_level = "INFO"\n{key} = "file-secret-123"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        _NonSecretToml(Settings, toml_file=file)
    message = str(caught.value)
    assert str(file) in message
    assert key.lower() in message
    assert "environment" in message
    assert "file-secret-123" not in message


def test_secret_in_the_settings_file_stops_load_settings(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env.write_text('discord_token = "file-secret-123"\n', encoding="utf-8")
    monkeypatch.setenv("DISCORD_TOKEN", "env-token")  # even when the environment has one
    with pytest.raises(SettingsError, match="discord_token must not be set in a file"):
        load_settings()


def _config_dir(tmp_path: Path, toml: str) -> Path:
    config = tmp_path / "config"
    (config / "playbooks").mkdir(parents=True)
    (config / "playbooks" / "tiny.yaml").write_bytes(TINY.read_bytes())
    (config / "settings.toml").write_text(toml, encoding="utf-8")
    return config


def test_secret_in_settings_file_stops_the_real_command(tmp_path: Path) -> None:
    config = _config_dir(
        tmp_path, 'default_playbook = "tiny"\nslack_signing_secret = "file-secret-123"\n'
    )
    result = _crossroads(
        tmp_path,
        "console",
        "--user",
        "x",
        stdin=b"1\n",
        CROSSROADS_CONFIG_DIR=str(config),
        CROSSROADS_PLAYBOOKS_DIR=str(config / "playbooks"),
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert str(config / "settings.toml") in result.stderr
    assert "slack_signing_secret must not be set in a file" in result.stderr
    assert "file-secret-123" not in result.stderr


def test_config_dir_settings_file_is_used_and_env_still_wins(tmp_path: Path) -> None:
    config = _config_dir(tmp_path, 'default_playbook = "nosuch"\n')
    env = _subprocess_env(tmp_path, CROSSROADS_CONFIG_DIR=str(config))
    del env["CROSSROADS_DEFAULT_PLAYBOOK"], env["CROSSROADS_PLAYBOOKS_DIR"]

    def console(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CROSSROADS), "console", "--user", "x"],
            input="",
            capture_output=True,
            text=True,
            env={**env, **extra},
            cwd=tmp_path,
            timeout=30,
            check=False,
        )

    # The file decides the default playbook, and the playbooks folder is the file's folder's.
    from_file = console({})
    assert from_file.returncode == 2
    assert "'nosuch'" in from_file.stderr
    assert str(config / "playbooks") in from_file.stderr
    assert "available: tiny" in from_file.stderr
    assert "Traceback" not in from_file.stderr
    # The environment overrides the file.
    from_env = console({"CROSSROADS_DEFAULT_PLAYBOOK": "tiny"})
    assert from_env.returncode == 0, from_env.stderr
    assert "Tiny test playbook" in from_env.stdout


def test_settings_file_that_is_not_toml_gives_a_clear_message(
    clean_env: Path,
) -> None:
    clean_env.write_text('log_level = "INFO\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(clean_env) in str(caught.value)
    assert "not valid TOML" in str(caught.value)
    assert "line 1" in str(caught.value)


def test_invalid_value_in_the_settings_file_is_refused(clean_env: Path) -> None:
    clean_env.write_text('default_timezone = "Mars/Base"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"default_timezone.*IANA time zone"):
        load_settings()


# --------------------------------------------------------------------------- database URL


# PostgreSQL goes through asyncpg; SQLite runs the standard sqlite3 driver in one thread of
# its own (bot/store/database.py), so every SQLite spelling becomes plain sqlite:///.
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@127.0.0.1:5432/db", "postgresql+asyncpg://u:p@127.0.0.1:5432/db"),
        ("postgresql://u@127.0.0.1/db", "postgresql+asyncpg://u@127.0.0.1/db"),
        ("postgresql+psycopg://u@127.0.0.1/db", "postgresql+asyncpg://u@127.0.0.1/db"),
        ("postgresql+asyncpg://u@127.0.0.1/db", "postgresql+asyncpg://u@127.0.0.1/db"),
        ("sqlite:////srv/data/c.db", "sqlite:////srv/data/c.db"),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("sqlite+aiosqlite:////srv/c.db", "sqlite:////srv/c.db"),
        ("sqlite+pysqlite:////srv/c.db", "sqlite:////srv/c.db"),
        ("  postgres://u@127.0.0.1/db\n", "postgresql+asyncpg://u@127.0.0.1/db"),
    ],
)
def test_database_url_picks_the_driver(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize("bad", ["mysql://x", "postgresql+psycopg2://u@h/db", "c.db", ""])
def test_database_url_other_schemes_are_refused(bad: str) -> None:
    with pytest.raises(SettingsError, match=r"DATABASE_URL: must start with sqlite:/// or post"):
        normalise_database_url(bad)


def test_database_url_from_either_variable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/one")
    assert load_settings().resolved_database_url == "postgresql+asyncpg://u@127.0.0.1/one"
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("CROSSROADS_DATABASE_URL", "sqlite:////tmp/two.db")
    assert load_settings().resolved_database_url == "sqlite:////tmp/two.db"


def test_default_database_is_sqlite_in_the_data_dir(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CROSSROADS_DATA_DIR", str(tmp_path / "d"))
    s = load_settings()
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'd' / 'crossroads.db'}"
    assert s.resolved_log_file == tmp_path / "d" / "crossroads.log"


def test_default_data_dir_follows_xdg(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert load_settings().resolved_data_dir == tmp_path / "xdg" / "crossroads"


# --------------------------------------------------------------------------- precedence


def test_environment_overrides_the_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env.write_text(
        'log_level = "DEBUG"\nslack_http_port = 4000\nmax_text_length = 500\n'
        'default_timezone = "Europe/Zurich"\nquiet_hours_start = "22:30"\n',
        encoding="utf-8",
    )
    s = load_settings()
    assert (s.log_level, s.slack_http_port, s.max_text_length) == ("DEBUG", 4000, 500)
    assert s.default_timezone == "Europe/Zurich"
    assert s.quiet_hours_start == time(22, 30)
    monkeypatch.setenv("CROSSROADS_LOG_LEVEL", "ERROR")
    monkeypatch.setenv("CROSSROADS_SLACK_HTTP_PORT", "5000")
    s = load_settings()
    assert (s.log_level, s.slack_http_port) == ("ERROR", 5000)
    assert s.max_text_length == 500  # not overridden: the file's value stays
    assert load_settings(slack_http_port=6000).slack_http_port == 6000  # code beats both


def test_shipped_settings_file_loads_and_matches_the_documented_defaults(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = REPO_ROOT / "config" / "settings.toml"
    monkeypatch.setattr(settings_mod, "SETTINGS_FILE", shipped)
    s = load_settings()
    assert s.log_level == "INFO"
    assert s.default_playbook == "ml-research-career"
    assert s.slack_http_host == "127.0.0.1"
    assert (s.quiet_hours_start, s.quiet_hours_end) == (time(21, 0), time(8, 0))
    assert s.discord_shard_ids == []
    for field in SECRET_FIELDS:
        assert getattr(s, field) is None  # the shipped file holds no secret
    assert not (s.discord_enabled or s.slack_enabled)


def test_list_setting_from_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSROADS_DISCORD_SHARD_IDS", "[0, 2]")
    assert load_settings().discord_shard_ids == [0, 2]
