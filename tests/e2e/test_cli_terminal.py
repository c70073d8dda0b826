"""The command line never lets a provider's text drive the terminal: control characters are stripped."""

from __future__ import annotations

import re

from tests.conftest import server_env
from tests.support.servers import run_cli

#: C0 and C1 control characters and DEL: what a terminal may act on.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
HOSTILE = "bad\x1b]0;owned\x07 content\x1b[2J\x9b31m\r\nend"


def printed(text: str) -> str:
    """What the command printed, less the progress bar's own carriage returns and the line ends."""
    return text.replace("\r[", "[")


def test_a_provider_error_with_escape_sequences_reaches_the_terminal_as_plain_text(fake, tmp_path, png):
    fake.provider("wavespeed").fail_next = HOSTILE
    env = server_env(fake, tmp_path / "data")
    generate = run_cli(["generate", "--image", str(png), "--prompt", "x"], env)
    tasks = run_cli(["tasks"], env)
    assert generate.returncode == 1 and tasks.returncode == 0
    for output in (printed(generate.stderr), tasks.stdout):
        assert not CONTROL.search(output), repr(output)
        assert "bad]0;owned content[2J31m  end" in output, repr(output)  # the words stay, in one line
    assert len(tasks.stdout.splitlines()) == 1


def test_a_video_url_with_control_characters_is_printed_without_them(fake, tmp_path, png):
    job = fake.provider("wavespeed")
    job.video_url = lambda _job: "https://cdn.example.com/\x1b[2Jclip\x85.mp4"
    env = server_env(fake, tmp_path / "data", VIDEOGEN_DOWNLOAD="0")
    generate = run_cli(["generate", "--image", str(png), "--prompt", "x"], env)
    tasks = run_cli(["tasks"], env)
    assert generate.returncode == 0, generate.stderr
    assert generate.stdout == "https://cdn.example.com/[2Jclip.mp4\n"
    assert not CONTROL.search(tasks.stdout) and "https://cdn.example.com/[2Jclip.mp4" in tasks.stdout
