"""Money on the command line: confirmation without a terminal, --yes, prices and the 24 h total."""

from __future__ import annotations

from tests.support.servers import run_cli, server_env


def test_generate_without_a_terminal_refuses_a_costly_run_unless_yes(fake, tmp_path, png):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_CONFIRM_ABOVE_USD="0.40")
    refused = run_cli(["generate", "--image", str(png), "--prompt", "a cat"], env)
    assert refused.returncode == 2
    assert "--yes" in refused.stderr and "$0.45" in refused.stderr and "nothing was sent" in refused.stderr
    assert fake.provider("wavespeed").requests == []
    fake.provider("wavespeed").job_seconds = 0.2
    done = run_cli(["generate", "--image", str(png), "--prompt", "a cat", "--yes"], env)
    assert done.returncode == 0, done.stderr
    listed = run_cli(["tasks"], env)
    assert "$0.45" in listed.stdout and "last 24 h: $0.45" in listed.stderr
    assert len(listed.stdout.splitlines()) == 1  # one line per task, the total aside


def test_providers_prints_prices_and_their_source(fake, tmp_path):
    shown = run_cli(["providers"], server_env(fake, tmp_path / "data"))
    assert shown.returncode == 0
    assert "$0.45/5s, $0.90/10s" in shown.stdout and "$0.39/5s, ?/10s" in shown.stdout  # gptproto: no 10 s price
    v3 = next(line for line in shown.stdout.splitlines() if "kwaivgi/kling-v3.0-pro/image-to-video" in line)
    assert v3.endswith(" ?")  # no published price at any length: one mark, not thirteen
    assert "prices: WaveSpeed model page" in shown.stdout


def test_a_bad_budget_stops_start_up_in_one_line(fake, tmp_path):
    shown = run_cli(["tasks"], server_env(fake, tmp_path / "data", VIDEOGEN_DAILY_BUDGET_USD="ten"))
    assert shown.returncode == 2
    assert shown.stderr.strip().splitlines() == [
        "videogen-mcp: VIDEOGEN_DAILY_BUDGET_USD must be an amount in US dollars such as 5 or 12.50, got 'ten'"]
