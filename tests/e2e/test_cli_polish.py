"""The command line's rough edges: help, bounds, Ctrl-C, unreachable image URLs; run as real subprocesses."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.conftest import SERVER_COMMAND, server_env
from tests.support.servers import run_cli


@pytest.mark.parametrize(
    ("extra", "sentence"),
    [
        (["--guidance-scale", "2"], "guidance_scale must be between 0 and 1, got 2.0"),
        (["--guidance-scale", "nan"], "guidance_scale must be between 0 and 1, got nan"),
        (["--negative-prompt", "x" * 3000], "negative_prompt must be at most 2500 characters, got 3000"),
        (["--prompt", "y" * 3000], "prompt must be at most 2500 characters, got 3000"),
        (["--duration", "7"], "kling-v2.1-i2v-pro takes 5 or 10 seconds, got 7"),
    ],
)
def test_generate_refuses_out_of_bounds_arguments_before_any_provider_call(fake, tmp_path, png, extra, sentence):
    env = server_env(fake, tmp_path / "data")
    done = run_cli(["generate", "--image", str(png), "--prompt", "a cat waves", *extra], env)
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.strip() == f"videogen-mcp: {sentence}"
    assert fake.provider("wavespeed").requests == []
    assert "no tasks yet" in run_cli(["tasks"], env).stderr


@pytest.mark.parametrize("limit", ["0", "-5"])
def test_tasks_refuses_a_limit_below_one(fake, tmp_path, limit):
    done = run_cli(["tasks", "--limit", limit], server_env(fake, tmp_path / "data"))
    assert done.returncode != 0
    assert done.stderr.strip() == f"videogen-mcp: limit must be between 1 and 200, got {limit}"


def test_top_level_help_says_no_command_serves_mcp_over_stdio(tmp_path):
    done = run_cli(["--help"], {"PATH": "", "HOME": str(tmp_path)})
    assert done.returncode == 0
    assert "with no command" in " ".join(done.stdout.lower().split()) and "stdio" in done.stdout


@pytest.mark.parametrize("command", ["serve", "generate", "tasks"])
def test_every_option_has_help_text(tmp_path, command):
    done = run_cli([command, "--help"], {"PATH": "", "HOME": str(tmp_path)})
    assert done.returncode == 0
    options = done.stdout.split("options:", 1)[1]
    entries = [line.strip() for line in options.splitlines() if line.strip()]
    for i, line in enumerate(entries):
        if line.startswith("--"):
            described = len(line.split("  ", 1)) == 2 or not entries[i + 1 if i + 1 < len(entries) else i] \
                .startswith("-")
            assert described, f"{command}: {line!r} has no help"


def test_ctrl_c_during_generate_says_the_task_resumes_next_time(fake, tmp_path, png):
    fake.provider("wavespeed").job_seconds = 60
    env = server_env(fake, tmp_path / "data")
    process = subprocess.Popen([SERVER_COMMAND, "generate", "--image", str(png), "--prompt", "a cat waves"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # bytes: keep each \r
    try:
        deadline = time.monotonic() + 30
        while len(fake.provider("wavespeed").polls()) < 2 and time.monotonic() < deadline:  # the bar is drawn
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, raw = process.communicate(timeout=30)
    finally:
        process.kill()
    [task_id] = [line.split()[0] for line in run_cli(["tasks"], env).stdout.splitlines()]
    assert process.returncode == 130
    assert out == b""
    err = raw.decode()
    last = err.rstrip("\n").rsplit("\n", 1)[-1]
    assert "\r" not in last, "the message must start on its own line, after the progress line"
    assert task_id in last and "next time the server runs" in last
    assert "Traceback" not in err
    assert "processing" in run_cli(["tasks"], env).stdout or "queued" in run_cli(["tasks"], env).stdout


def test_an_unreachable_image_url_says_what_to_do_and_leaves_no_task(tmp_path):
    env = {"PATH": "", "HOME": str(tmp_path), "VIDEOGEN_DATA_DIR": str(tmp_path / "data")}
    url = "https://images.example.invalid/cat.png"  # .invalid never resolves (RFC 2606)
    done = run_cli(["generate", "--image", url, "--prompt", "slow zoom in", "--provider", "local"], env)
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "check the URL is reachable from this machine, or pass a local file" in lines[0]
    assert "no tasks yet" in run_cli(["tasks"], env).stderr
