"""Our own name on the package index, and a Claude Desktop example that runs this project, not another."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "claude_desktop_config.example.json"
NOT_OURS = "videogen-mcp"  # on the package index: an unrelated server


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def servers() -> dict[str, dict]:
    return json.loads(EXAMPLE.read_text())["mcpServers"]


def key_vars(entry: dict) -> list[str]:
    return [name for name in entry.get("env", {}) if name.endswith("_API_KEY")]


def test_the_distribution_is_videogen_mcp_server():
    assert pyproject()["project"]["name"] == "videogen-mcp-server"


def test_both_console_scripts_start_the_same_entry_point():
    assert pyproject()["project"]["scripts"] == {
        "videogen-mcp-server": "videogen_mcp.cli:main",
        "videogen-mcp": "videogen_mcp.cli:main",
    }


def test_the_offline_entry_carries_no_key_so_no_provider_becomes_the_default():
    offline = servers()["videogen"]
    assert key_vars(offline) == []
    assert "VIDEOGEN_DEFAULT_PROVIDER" not in offline.get("env", {})


def test_an_entry_with_a_key_names_its_provider():
    keyed = {name: key_vars(entry) for name, entry in servers().items() if key_vars(entry)}
    assert keyed, "the example shows where a key goes"
    for name, keys in keyed.items():
        assert [key.removesuffix("_API_KEY").lower() for key in keys] == [name.removeprefix("videogen-")]


def test_no_entry_runs_the_unrelated_videogen_mcp_from_the_index():
    for name, entry in servers().items():
        if entry["command"] == "uvx":
            args = entry["args"]
            runs = args[args.index("--from") + 1] if "--from" in args else args[0]
            assert not runs.startswith(NOT_OURS) or runs.startswith("videogen-mcp-server"), name
            assert args[-1] == "videogen-mcp-server", name


def test_the_example_shows_a_clone_with_uvx_a_checkout_venv_and_the_published_name():
    commands = [[entry["command"], *entry["args"]] for entry in servers().values()]
    assert ["uvx", "--from", "/absolute/path/to/videogen-mcp[local]", "videogen-mcp-server"] in commands
    assert ["/absolute/path/to/videogen-mcp/.venv/bin/videogen-mcp"] in commands
    assert ["uvx", "videogen-mcp-server"] in commands
