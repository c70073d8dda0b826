"""The terminal commands: generate one video with a progress bar, list providers, list and cancel tasks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio

from videogen_mcp.config import Settings
from videogen_mcp.errors import InvalidInput
from videogen_mcp.models import Task
from videogen_mcp.tasks import money
from videogen_mcp.tasks.requests import MAX_WAIT
from videogen_mcp.tasks.service import GenerateRequest, TaskService, open_service
from videogen_mcp.validation import durations_text

BAR_WIDTH = 30
#: C0 and C1 control characters and DEL: a provider's text (an error, a URL) must not drive the terminal with
#: escape sequences. Line breaks and tabs become a plain space, so each task stays on one line.
CONTROLS = {code: None for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]} | {ord(c): " " for c in "\t\n\r\v\f"}


async def generate(settings: Settings, args: argparse.Namespace) -> int:
    end_image = _absolute(args.end_image) if args.end_image is not None else None
    request = GenerateRequest(_absolute(args.image), args.prompt, args.provider, args.model, args.duration,
                              args.negative_prompt, args.guidance_scale, end_image, args.sound)
    async with open_service(settings) as service:
        task = await service.generate(request, confirmed_usd=await _confirm(service, request, args.yes))
        print(f"task {task.task_id} submitted to {task.provider}", file=sys.stderr)
        try:
            while not task.finished:
                task = await service.wait(task.task_id, MAX_WAIT, _draw_bar)
        except anyio.get_cancelled_exc_class():  # Ctrl-C: asyncio cancels the main task, then main() exits 130
            print(f"\nvideogen-mcp: stopped waiting; task {task.task_id} goes on at {task.provider} and resumes "
                  "the next time the server runs", file=sys.stderr)
            raise
    print(file=sys.stderr)
    if task.status != "completed":
        print(f"videogen-mcp: the generation {task.status}: {plain(task.error) or 'no reason given'}", file=sys.stderr)
        return 1
    if task.error:
        print(f"note: {plain(task.error)}", file=sys.stderr)
    print(plain(task.video_path or task.video_url))
    return 0


async def _confirm(service: TaskService, request: GenerateRequest, yes: bool) -> float | None:
    """Where a confirmation is due: ask y/N on the terminal, or take --yes; the price confirmed, else None."""
    try:
        price = service.quote(request)
    except InvalidInput:
        return None  # generate refuses the arguments with its own sentence
    if not service.confirmation_due(price):
        return None
    if yes:
        return price.counted
    if not sys.stdin.isatty():
        raise money.confirmation_needed(service.settings, price, "there is no terminal to ask on (pass --yes)")
    print(f"{money.confirmation_question(price)} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = await anyio.to_thread.run_sync(sys.stdin.readline)  # stdout carries only the video's path
    if answer.strip().lower() not in ("y", "yes"):
        raise money.not_confirmed()
    return price.counted


def _absolute(image: str) -> str:
    """A relative path typed in a terminal means the current directory (the server takes absolute paths only)."""
    ref = image.strip()
    if not ref or ref.startswith("~") or ref[:8].lower().startswith(("http://", "https://", "data:", "file:")):
        return image
    return str(Path.cwd() / ref)


async def _draw_bar(progress: float, message: str) -> None:
    filled = int(BAR_WIDTH * progress / 100)
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    sys.stderr.write(f"\r[{bar}] {progress:5.1f}% {plain(message):<40}")
    sys.stderr.flush()


async def providers(settings: Settings, _args: argparse.Namespace) -> int:
    async with open_service(settings, follow=False) as service:
        infos = service.providers()
    print(f"{'provider':<10} {'configured':<11} {'health':<9} {'model':<26} {'provider id':<48} "
          f"{'seconds':<8} {'end':<4} {'sound':<6} price")
    for info in infos:
        state = "yes" if info.configured else "no"
        name = info.name + (" *" if info.is_default else "")
        for model in info.models:
            price = _prices(model.price_usd or {})
            own = model.provider_model_id + (f" (mode {model.mode})" if model.mode else "")
            seconds = durations_text(model.durations).replace(" to ", "-").replace(" or ", ",")
            end, sound = ("yes" if model.end_image else "-"), ("yes" if model.sound else "-")
            print(f"{name:<10} {state:<11} {info.health.status:<9} {model.id:<26} {own:<48} {seconds:<8} {end:<4} "
                  f"{sound:<6} {price}")
        for source in dict.fromkeys(f"{m.price_source}, read {m.price_read}" for m in info.models if m.price_source):
            print(f"{'':<10} prices: {source}")
        for note in dict.fromkeys(m.price_note for m in info.models if m.price_note):
            print(f"{'':<10} {note}")
        if info.setup:
            print(f"{'':<10} {info.setup}")
        if info.health.status == "degraded":
            print(f"{'':<10} degraded until {info.health.until}: {plain(info.health.reason)}")
    print("* default provider", file=sys.stderr)
    return 0


async def tasks(settings: Settings, args: argparse.Namespace) -> int:
    async with open_service(settings, follow=False) as service:
        recent = await service.list(limit=args.limit)
        spent = await service.spent_today()
    if not recent:
        print("no tasks yet", file=sys.stderr)
    for task in recent:
        print(_task_line(task))
    cap = settings.daily_budget_usd
    # stderr, as "no tasks yet": stdout stays one task per line for scripts
    print(f"last 24 h: ${spent:.2f}" + (f" of the ${cap:.2f} daily budget" if cap is not None else ""),
          file=sys.stderr)
    return 0


async def cancel(settings: Settings, args: argparse.Namespace) -> int:
    async with open_service(settings, follow=False) as service:
        task = await service.cancel(args.task_id)
    print(f"task {task.task_id} cancelled: {plain(task.error)}", file=sys.stderr)
    return 0


def _task_line(task: Task) -> str:
    where = plain(task.video_path or task.video_url or task.error)
    return (f"{task.task_id}  {task.status:<10} {task.progress:>3}%  {task.provider:<9} {_dollars(task.cost_usd):>7}  "
            f"{task.created_at}  {where}")


def _prices(usd: dict[str, float | None]) -> str:
    """`$0.45/5s, $0.90/10s`; one `?` when no length has a published price."""
    if all(p is None for p in usd.values()):
        return "?"
    return ", ".join(f"{_dollars(p)}/{d}s" for d, p in usd.items())


def _dollars(amount: float | None) -> str:
    return "?" if amount is None else f"${amount:.2f}"


def plain(text: str | None) -> str:
    """Text from a provider as the terminal should see it: without control characters (see CONTROLS)."""
    return (text or "").translate(CONTROLS)
