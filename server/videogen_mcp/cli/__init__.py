"""The command line: the stdio server by default, `serve` over HTTP, and generate/providers/tasks."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import anyio

from videogen_mcp.catalog import DEFAULT_MODEL
from videogen_mcp.config import ALL_PROVIDERS, Settings, load_settings
from videogen_mcp.errors import VideogenError
from videogen_mcp.tasks.requests import MAX_GUIDANCE, MAX_LIMIT, MAX_PROMPT, MIN_GUIDANCE, MIN_LIMIT
from videogen_mcp.tasks.store import check_store

log = logging.getLogger("videogen_mcp")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    level = os.environ.get("VIDEOGEN_LOG_LEVEL", "INFO").strip().upper()
    if level not in LOG_LEVELS:
        choices = ", ".join(LOG_LEVELS)
        print(f"videogen-mcp: VIDEOGEN_LOG_LEVEL must be one of {choices}, got {level!r}", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per poll is noise
    try:
        settings = load_settings()
        anyio.run(check_store, settings)  # a bad VIDEOGEN_DATA_DIR or VIDEOGEN_DATABASE_URL stops start-up in one line
        sys.exit(args.run(settings, args) or 0)
    except VideogenError as exc:
        print(f"videogen-mcp: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="videogen-mcp", description="MCP server for image-to-video generation.",
        epilog="With no command, videogen-mcp serves MCP over stdio: the command an MCP host such as Claude Desktop "
               "runs. Provider keys and settings come from environment variables (see the README).")
    parser.set_defaults(run=_serve_stdio)
    commands = parser.add_subparsers(title="commands")
    serve = commands.add_parser("serve", help="serve MCP over stdio or streamable HTTP")
    serve.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio",
                       help="stdio (the default) or streamable-http (served at /mcp)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on for streamable-http (default 127.0.0.1; any other address "
                            "needs VIDEOGEN_HTTP_TOKEN)")
    serve.add_argument("--port", type=int, default=8000, help="port for streamable-http (default 8000)")
    serve.set_defaults(run=_serve)
    generate = commands.add_parser("generate", help="generate one video from a terminal")
    generate.add_argument("--image", required=True, help="https:// URL, data URI or local path (JPEG or PNG)")
    generate.add_argument("--prompt", required=True, help=f"what should happen in the video (1-{MAX_PROMPT} "
                                                          "characters)")
    generate.add_argument("--provider", help=f"one of {', '.join(ALL_PROVIDERS)} (default: the default provider; "
                                             "see `videogen-mcp providers`)")
    generate.add_argument("--model", help=f"canonical model id (default {DEFAULT_MODEL}; see `videogen-mcp "
                                          "providers`)")
    generate.add_argument("--duration", type=int, default=5, help="video length in seconds, as the model allows "
                                                                  "(default 5)")
    generate.add_argument("--negative-prompt", help=f"what to avoid (at most {MAX_PROMPT} characters)")
    generate.add_argument("--guidance-scale", type=float, help=f"how closely to follow the prompt, {MIN_GUIDANCE}-"
                                                               f"{MAX_GUIDANCE} (default 0.5)")
    generate.add_argument("--yes", action="store_true", help="confirm a generation priced above "
                          "VIDEOGEN_CONFIRM_ABOVE_USD without asking (needed without a terminal)")
    generate.add_argument("--end-image", help="the video's last frame: https:// URL, data URI or local path (models "
                                              "with an end frame; see `videogen-mcp providers`)")
    generate.add_argument("--sound", action="store_true", default=None,
                          help="native audio (models with sound; see `videogen-mcp providers`)")
    generate.set_defaults(run=_command("generate"))
    commands.add_parser("providers", help="providers and models, and which are configured").set_defaults(
        run=_command("providers"))
    tasks = commands.add_parser("tasks", help="the most recent tasks")
    tasks.add_argument("--limit", type=int, default=20, help=f"how many of the newest tasks to show, {MIN_LIMIT}-"
                                                             f"{MAX_LIMIT} (default 20)")
    tasks.set_defaults(run=_command("tasks"))
    cancel = commands.add_parser("cancel", help="cancel a task (and ask its provider to stop the job)")
    cancel.add_argument("task_id", help="the task's id, as `videogen-mcp tasks` shows it")
    cancel.set_defaults(run=_command("cancel"))
    return parser


def _serve_stdio(settings: Settings, _args: argparse.Namespace) -> None:
    from videogen_mcp.app import build_server
    from videogen_mcp.stdio import run_stdio

    run_stdio(build_server(settings, transport="stdio"))


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    if args.transport == "stdio":
        return _serve_stdio(settings, args)
    from videogen_mcp.http_transport import serve_http

    serve_http(settings, args.host, args.port)


def _command(name: str) -> Callable[[Settings, argparse.Namespace], Any]:
    def run(settings: Settings, args: argparse.Namespace) -> Any:
        from videogen_mcp.cli import commands

        logging.getLogger().setLevel(logging.WARNING)
        return anyio.run(getattr(commands, name), settings, args)

    return run
