"""Discord start-up failures are one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from tests.discord_harness import TOKEN
from tests.fakes.discord_fake import FakeDiscord

pytest_plugins = ["tests.discord_fixtures"]
CROSSROADS = Path(sys.executable).with_name("crossroads")
TINY = Path(__file__).parent / "playbooks" / "tiny.yaml"


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir(exist_ok=True)
    (playbooks / "tiny.yaml").write_bytes(TINY.read_bytes())
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CROSSROADS_", "SLACK_", "DISCORD_")) and k != "DATABASE_URL"
    }
    env.update(
        CROSSROADS_DATA_DIR=str(tmp_path / "data"),
        CROSSROADS_PLAYBOOKS_DIR=str(playbooks),
        CROSSROADS_DEFAULT_PLAYBOOK="tiny",
        DISCORD_TOKEN=TOKEN,
        **extra,
    )
    return env


def refused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_discord_is_one_line_and_exit_2(tmp_path: Path) -> None:
    port = refused_port()
    env = env_for(
        tmp_path,
        CROSSROADS_DISCORD_API_BASE=f"http://127.0.0.1:{port}/api/v10",
        CROSSROADS_DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{port}/",
    )
    done = subprocess.run(
        [str(CROSSROADS), "run"], env=env, capture_output=True, timeout=120, check=False
    )
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "Traceback" not in err
    assert err.strip().count("\n") == 0 and "Discord cannot be reached" in err
    log = (tmp_path / "data" / "crossroads.log").read_text()
    assert "serving Discord" not in log


async def test_serving_is_logged_only_once_connected(fake: FakeDiscord, tmp_path: Path) -> None:
    env = env_for(
        tmp_path,
        CROSSROADS_DISCORD_API_BASE=fake.api_base,
        CROSSROADS_DISCORD_GATEWAY_URL=fake.gateway_url,
    )
    proc = await asyncio.create_subprocess_exec(
        str(CROSSROADS), "run", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake.wait_for(kind="identify", timeout=60)
        log = tmp_path / "data" / "crossroads.log"
        async with asyncio.timeout(60):
            while "serving Discord" not in log.read_text():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        text = log.read_text()
        assert text.index("synced") < text.index("serving Discord")
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0


def test_invite_url_says_a_set_token_is_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-bot-token")
    result = runner.invoke(cli, ["discord", "invite-url"])
    assert result.exit_code == 2
    assert "not a valid bot token" in result.output and "not-a-bot-token" not in result.output
    monkeypatch.delenv("DISCORD_TOKEN")
    result = runner.invoke(cli, ["discord", "invite-url"])
    assert result.exit_code == 2 and "DISCORD_TOKEN is not set" in result.output
