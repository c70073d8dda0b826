"""The command line and the Claude Desktop entry, run as real subprocesses."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import ERAS, SERVER_COMMAND, server_env, stdio_client
from tests.support.servers import run_cli
from videogen_mcp.config import default_data_dir

ROOT = Path(__file__).resolve().parents[2]


def test_generate_prints_the_video_path_on_stdout(fake, tmp_path, png):
    env = server_env(fake, tmp_path / "data")
    done = run_cli(["generate", "--image", str(png), "--prompt", "a cat waves"], env)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.is_file() and path.parent == tmp_path / "data" / "videos"
    assert "%" in done.stderr


def test_generate_with_bad_input_exits_non_zero_with_one_sentence(fake, tmp_path):
    env = server_env(fake, tmp_path / "data")
    done = run_cli(["generate", "--image", str(tmp_path / "nope.png"), "--prompt", "x"], env)
    assert done.returncode != 0
    assert done.stdout == ""
    assert "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_failed_generation_exits_non_zero(fake, tmp_path, png):
    fake.provider("wavespeed").fail_next = "nsfw content"
    done = run_cli(["generate", "--image", str(png), "--prompt", "x"], server_env(fake, tmp_path / "data"))
    assert done.returncode == 1 and "nsfw content" in done.stderr


def test_providers_and_tasks_tables(fake, tmp_path, png):
    env = server_env(fake, tmp_path / "data")
    run_cli(["generate", "--image", str(png), "--prompt", "a cat waves"], env)
    providers = run_cli(["providers"], env)
    tasks = run_cli(["tasks"], env)
    assert providers.returncode == 0 and "kling-v2.1-i2v-pro" in providers.stdout
    assert "set GPTPROTO_API_KEY" in providers.stdout
    assert tasks.returncode == 0 and "completed" in tasks.stdout
    assert len(tasks.stdout.split()[0]) == 32  # the full task id


@pytest.mark.parametrize(
    ("variable", "value"),
    [("VIDEOGEN_POLL_INTERVAL", "soon"), ("VIDEOGEN_DEFAULT_PROVIDER", "sora"), ("VIDEOGEN_DOWNLOAD", "maybe"),
     ("VIDEOGEN_LOG_LEVEL", "chatty"), ("VIDEOGEN_POLL_BUDGET", "lots")],
)
def test_bad_configuration_stops_start_up_with_one_line_naming_the_variable(tmp_path, variable, value):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), variable: value}
    done = run_cli([], env, timeout=20)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], done.stderr


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ERAS)
async def test_claude_desktop_checkout_entry_follows_a_generation(fake, tmp_path, png, mode):
    config = json.loads((ROOT / "claude_desktop_config.example.json").read_text())
    entry = config["mcpServers"]["videogen-checkout"]
    command = entry["command"].replace("/absolute/path/to/videogen-mcp/.venv/bin", str(Path(sys.executable).parent))
    assert command == SERVER_COMMAND and entry["args"] == []
    env = {**server_env(fake, tmp_path / "data"), **{k: v for k, v in entry.get("env", {}).items() if "KEY" not in k}}
    env["VIDEOGEN_DATA_DIR"] = str(tmp_path / "data")
    async with stdio_client(env, mode) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
    assert result.structured_content["status"] == "completed"
    assert Path(result.structured_content["video_path"]).is_file()


def test_readme_offline_generate_renders_with_no_key(tmp_path):
    image = tmp_path / "cat.png"
    from tests.conftest import make_image

    make_image(image, (900, 900))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # no key, no data dir: the defaults
    done = run_cli(["generate", "--image", str(image), "--prompt", "slow zoom in on the cat"], env)
    assert done.returncode == 0, done.stderr
    video = Path(done.stdout.strip())
    assert video.parent == default_data_dir(env) / "videos"
    assert video.read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize("provider", ["wavespeed", "myrouter"])
def test_no_key_reaches_the_terminal_or_the_log(fake, tmp_path, png, provider):
    secret = "sk-live-very-secret-42"
    env = server_env(fake, tmp_path / "data", (provider,), **{f"{provider.upper()}_API_KEY": secret})
    done = run_cli(["generate", "--image", str(png), "--prompt", "x", "--provider", provider], env)
    assert done.returncode != 0 and "rejected the API key" in done.stderr
    assert secret not in done.stderr and secret not in done.stdout
