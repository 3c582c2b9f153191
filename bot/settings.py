"""One settings object: defaults from config/settings.toml, overridden by the environment.

Secrets are only ever taken from the environment and are kept as ``SecretStr`` so they
never show up in a repr, a log line or an error message.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as SourceError

__all__ = [
    "CONFIG_DIR",
    "OTHER_VARIABLES",
    "REPO_ROOT",
    "SECRET_FIELDS",
    "SETTINGS_FILE",
    "Settings",
    "SettingsError",
    "load_settings",
    "normalise_database_url",
    "setting_variables",
    "unknown_variables",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(os.environ.get("CROSSROADS_CONFIG_DIR", REPO_ROOT / "config"))
SETTINGS_FILE = CONFIG_DIR / "settings.toml"
SECRET_FIELDS = frozenset(
    {
        "discord_token",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "slack_client_secret",
    }
)


def _env(name: str, *aliases: str) -> AliasChoices:
    return AliasChoices(f"CROSSROADS_{name.upper()}", *aliases)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "crossroads"


class SettingsError(Exception):
    """Start-up configuration is invalid; the message names each setting and what it allows."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        extra="ignore", populate_by_name=True, validate_default=True, frozen=True
    )

    data_dir: Path | None = Field(None, validation_alias=_env("data_dir"))
    # repr=False: a PostgreSQL URL may carry a password.
    database_url: str = Field("", repr=False, validation_alias=_env("database_url", "DATABASE_URL"))
    auto_migrate: bool = Field(True, validation_alias=_env("auto_migrate"))
    # PostgreSQL: longest a turn waits for the server (connect, pool, statements) before
    # the person is told it cannot be reached.
    db_timeout_seconds: float = Field(
        5.0, gt=0, le=300, validation_alias=_env("db_timeout_seconds")
    )
    default_playbook: str = Field("ml-research-career", validation_alias=_env("default_playbook"))
    playbooks_dir: Path = Field(CONFIG_DIR / "playbooks", validation_alias=_env("playbooks_dir"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("log_level")
    )
    log_file: Path | None = Field(None, validation_alias=_env("log_file"))
    max_text_length: int = Field(2000, ge=10, le=20000, validation_alias=_env("max_text_length"))

    discord_token: SecretStr | None = Field(
        None, validation_alias=_env("discord_token", "DISCORD_TOKEN")
    )
    discord_api_base: str = Field(
        "https://discord.com/api/v10", validation_alias=_env("discord_api_base")
    )
    discord_gateway_url: str = Field(
        "wss://gateway.discord.gg/", validation_alias=_env("discord_gateway_url")
    )
    discord_dev_guild_id: int = Field(0, ge=0, validation_alias=_env("discord_dev_guild_id"))
    discord_shard_count: int = Field(0, ge=0, validation_alias=_env("discord_shard_count"))
    discord_shard_ids: list[int] = Field(
        default_factory=list, validation_alias=_env("discord_shard_ids")
    )

    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("slack_bot_token", "SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=_env("slack_app_token", "SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("slack_signing_secret", "SLACK_SIGNING_SECRET")
    )
    slack_client_id: str = Field("", validation_alias=_env("slack_client_id", "SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(
        None, validation_alias=_env("slack_client_secret", "SLACK_CLIENT_SECRET")
    )
    slack_redirect_uri: str = Field("", validation_alias=_env("slack_redirect_uri"))
    slack_api_base: str = Field("https://slack.com/api/", validation_alias=_env("slack_api_base"))
    slack_mode: Literal["socket", "http"] = Field("socket", validation_alias=_env("slack_mode"))
    slack_http_host: str = Field("127.0.0.1", validation_alias=_env("slack_http_host"))
    slack_http_port: int = Field(3000, ge=1, le=65535, validation_alias=_env("slack_http_port"))
    slack_command: str = Field("/advise", validation_alias=_env("slack_command"))

    default_timezone: str = Field("UTC", validation_alias=_env("default_timezone"))
    quiet_hours_start: time = Field(time(21, 0), validation_alias=_env("quiet_hours_start"))
    quiet_hours_end: time = Field(time(8, 0), validation_alias=_env("quiet_hours_end"))
    checkin_grace_hours: int = Field(
        12, ge=0, le=24 * 30, validation_alias=_env("checkin_grace_hours")
    )
    # Local time of day for a check-in when only a date is chosen ("in 3 days", a date).
    checkin_time: time = Field(time(10, 0), validation_alias=_env("checkin_time"))
    # How long a process owns the reminders it claimed; another process re-claims after.
    checkin_lease_seconds: int = Field(
        120, ge=5, le=3600, validation_alias=_env("checkin_lease_seconds")
    )
    # Undeliverable DMs (closed, user gone) are retried this many times, then marked failed.
    checkin_max_attempts: int = Field(5, ge=1, le=20, validation_alias=_env("checkin_max_attempts"))
    # First retry delay; each later one is three times longer.
    checkin_retry_seconds: int = Field(
        300, ge=1, le=86400, validation_alias=_env("checkin_retry_seconds")
    )
    # Safety poll: reminders another process scheduled are picked up within this time.
    checkin_poll_seconds: int = Field(
        30, ge=1, le=3600, validation_alias=_env("checkin_poll_seconds")
    )
    # A mentor request nobody has taken is posted again (once) after this many hours; a
    # request a mentor handed back likewise.
    mentor_resurface_hours: int = Field(
        48, ge=1, le=24 * 90, validation_alias=_env("mentor_resurface_hours")
    )

    # Admin statistics: an unfinished consultation with no turn for this many days counts
    # as abandoned at its current question.
    stats_abandoned_days: int = Field(
        14, ge=1, le=365, validation_alias=_env("stats_abandoned_days")
    )
    # Platforms whose recommendations carry a chart of the person's top routes (they show
    # images); the console shows none. Needs the charts extra (matplotlib).
    route_chart_platforms: list[Literal["console", "discord", "slack"]] = Field(
        default_factory=lambda: ["discord", "slack"],
        validation_alias=_env("route_chart_platforms"),
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if SETTINGS_FILE.is_file():
            sources.append(_NonSecretToml(settings_cls, toml_file=SETTINGS_FILE))
        return tuple(sources)

    @field_validator("data_dir", "log_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator(
        "discord_token",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "slack_client_secret",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA time zone name such as Europe/Zurich") from exc
        return value

    @field_validator("default_playbook")
    @classmethod
    def _playbook_id(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", value):
            raise ValueError("must be a playbook id: lower-case letters, digits and dashes")
        return value

    @field_validator("slack_command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not re.fullmatch(r"/[a-z0-9_-]{1,31}", value):
            raise ValueError("must be a slash command such as /advise")
        return value

    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir or _default_data_dir()

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{self.resolved_data_dir / 'crossroads.db'}"

    @cached_property
    def resolved_log_file(self) -> Path:
        return self.log_file or self.resolved_data_dir / "crossroads.log"

    @property
    def discord_enabled(self) -> bool:
        return self.discord_token is not None

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None or bool(self.slack_client_id)


class _NonSecretToml(TomlConfigSettingsSource):
    """The settings file may set anything but a secret: secrets come from the environment."""

    def __init__(self, settings_cls: type[BaseSettings], toml_file: Path) -> None:
        try:
            super().__init__(settings_cls, toml_file=toml_file)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{toml_file}: not valid TOML: {exc}") from None
        # Check the keys as written in the file (the parsed data is keyed by alias).
        written = {str(k).lower().removeprefix("crossroads_") for k in self.toml_data}
        leaked = sorted(SECRET_FIELDS & written)
        if leaked:
            raise SettingsError(
                f"{toml_file}: {', '.join(leaked)} must not be set in a file; "
                "set it in the environment instead"
            )


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, sqlite:///) and pick the async driver."""
    url = url.strip()
    for prefix, replacement in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite+aiosqlite:///", "sqlite:///"),
        ("sqlite+pysqlite:///", "sqlite:///"),
    ):
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    if url.startswith(("postgresql+asyncpg://", "sqlite:///")):
        return url
    raise SettingsError(
        "DATABASE_URL: must start with sqlite:/// or postgresql:// "
        f"(got a URL starting with {url.split(':', 1)[0]!r})"
    )


# CROSSROADS_ variables that are not settings but are read elsewhere (tests, benches).
OTHER_VARIABLES = frozenset(
    {
        "CROSSROADS_CONFIG_DIR",
        "CROSSROADS_TEST_PG_URL",
        "CROSSROADS_BENCH_PG_URL",
        "CROSSROADS_FUZZ_EXAMPLES",
    }
)


def setting_variables() -> set[str]:
    """Every CROSSROADS_* environment variable a setting reads."""
    names: set[str] = set()
    for info in Settings.model_fields.values():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names.update(str(c).upper() for c in choices if str(c).upper().startswith("CROSSROADS_"))
    return names


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per CROSSROADS_* variable no setting reads, naming the nearest one."""
    known = setting_variables() | OTHER_VARIABLES
    out = []
    for name in sorted(environ if environ is not None else os.environ):
        upper = name.upper()
        if not upper.startswith("CROSSROADS_") or upper in known:
            continue
        tails = {k.removeprefix("CROSSROADS_"): k for k in known}
        near = difflib.get_close_matches(upper.removeprefix("CROSSROADS_"), tails, n=1, cutoff=0.6)
        hint = f"; did you mean {tails[near[0]]}?" if near else ""
        out.append(f"{name} is not a Crossroads setting and is ignored{hint}")
    return out


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one readable message."""
    try:
        settings = Settings(**overrides)
        settings.resolved_database_url  # noqa: B018 - validates the URL now, not later
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = str(err["loc"][0]) if err["loc"] else "settings"
            name = loc.removeprefix("CROSSROADS_").lower()
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{name} (environment variable CROSSROADS_{name.upper()}): {msg}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
    except SourceError as exc:
        # pydantic-settings could not even parse a value (a list that is not JSON).
        found = re.search(r'field "(\w+)"', str(exc))
        name = found.group(1) if found else "settings"
        raise SettingsError(
            f"invalid settings:\n  {name} (environment variable CROSSROADS_{name.upper()}): "
            "cannot be parsed; write a list as JSON, e.g. [0, 1]"
        ) from None
    return settings
