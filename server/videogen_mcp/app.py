"""The MCP surface: tools and task resources. Thin: it validates, calls TaskService, shapes results."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, ElicitationResult, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp_types import CallToolResult, Resource, TextContent, ToolAnnotations, ToolExecution
from mcp_types import Tool as MCPTool
from pydantic import Field, ValidationError

from videogen_mcp import __version__, confirm
from videogen_mcp.config import ALL_PROVIDERS, Settings
from videogen_mcp.errors import InvalidInput, VideogenError
from videogen_mcp.mcp_tasks import TASK_TOOL, TasksExtension, declares_extension, running_as_task
from videogen_mcp.models import ProviderList, Task, TaskList
from videogen_mcp.notifications import (
    LegacySubscriptions,
    Notifier,
    TaskListenHandler,
    install_legacy_tasks,
    install_task_listen,
)
from videogen_mcp.tasks.requests import (
    MAX_GUIDANCE,
    MAX_WAIT,
    MIN_GUIDANCE,
    GuidanceScale,
    Limit,
    NegativePrompt,
    Prompt,
    StatusFilter,
    TaskId,
    WaitSeconds,
)
from videogen_mcp.tasks.service import GenerateRequest, TaskService, open_service
from videogen_mcp.validation import describe_unknown_arguments, describe_validation_error

INSTRUCTIONS = f"""\
Generates videos from an image and a prompt with Kling models. Call generate_video; if the task it
returns is not completed yet, call get_task with its task_id and wait_seconds=45 (hosts cut calls at
about 60 s; use up to {MAX_WAIT} where they do not), again until status is completed (then video_path is
the local file) or failed (then error says why). Every task is followed in the background and is
also readable as the resource task://<task_id>."""

GENERATE_DESCRIPTION = """\
Start a video generation from an image and a text prompt (Kling image-to-video) and wait for it.

Pass `image` as an https:// URL, a data:image/...;base64 URI, or an absolute local file path
(JPEG or PNG, at least 300x300 px, at most 10 MB, aspect ratio between 1:2.5 and 2.5:1), and a
`prompt` describing the motion. On models that take them (see list_providers), `end_image` sets the
last frame and `sound` adds native audio; `duration` is any length the model allows. Generation takes
about 2-6 minutes for 5 s of video. The call waits up to `wait_seconds` (default 45); if the video
is not ready by then it returns the task as it stands: call get_task(task_id, wait_seconds=...) to
keep waiting. The generation is never lost when a call ends. Each call starts a new paid generation:
do not repeat it to check on a task."""

GET_DESCRIPTION = f"""\
Get a video task by its task_id, optionally waiting up to `wait_seconds` (0-{MAX_WAIT}) for it to finish.
Use this after generate_video returned a task that is still queued or processing. A completed task
has `video_path` (the local MP4) and `video_url`; a failed one has `error`."""

CANCEL_DESCRIPTION = """\
Cancel a video task by its task_id: it is cancelled at once and no longer followed, and its video is not
downloaded. Where the provider documents a cancel (WaveSpeed) it is asked to stop the job; `error` then says
whether it confirmed, or that the job may still finish and be billed. A finished task cannot be cancelled."""

LIST_DESCRIPTION = "List stored video tasks, newest first, optionally only those with a given status."
PROVIDERS_DESCRIPTION = """\
List the video providers, whether each is configured (has its API key), which one is the default,
and the models each serves with allowed durations, whether each takes end_image and sound, and prices
where published (null where not)."""

PROVIDER_ARGUMENT = (f"One of {', '.join(ALL_PROVIDERS)} (local: offline camera move, no AI); default: the configured "
                     "providers in turn (VIDEOGEN_PROVIDER_ORDER), moving on only when one certainly started no job; "
                     "naming one means exactly that one.")
#: Even with wait_seconds=0, give the provider this long to accept the job, so refusals come back as errors.
MIN_SUBMIT_WAIT = 10.0
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
CANCELS = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)
GENERATES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                            open_world_hint=True)


class VideogenServer(MCPServer):
    """MCPServer with a dynamic resource list, readable argument errors, and unknown arguments refused."""

    def __init__(self, state: AppState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state
        self._argument_names: dict[str, list[str]] = {}

    async def list_tools(self) -> list[MCPTool]:
        tools = await super().list_tools()
        for tool in tools:
            tool.input_schema["additionalProperties"] = False  # call_tool refuses them rather than drop them
            if tool.name == TASK_TOOL:  # 2025-11-25 tasks; the 2026-07-28 wire drops the field
                tool.execution = ToolExecution(task_support="optional")
        return tools

    async def list_resources(self) -> list[Resource]:
        tasks = await self.state.service.list(limit=100) if self.state.service else []
        return [
            Resource(uri=t.resource_uri, name=f"task {t.task_id}", title=f"{t.status}: {t.prompt[:60]}",
                     mime_type="application/json")
            for t in tasks
        ]

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        known = await self._arguments_of(name)
        unknown = [key for key in arguments if key not in known] if known is not None else []
        if unknown:  # the SDK would drop them silently: a typo must not turn 10 s into the default 5 s
            raise ToolError(describe_unknown_arguments(name, unknown, known or []))
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:  # the SDK prefixes "Error executing tool X: "; the agent needs only our sentence
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(describe_validation_error(exc.__cause__)) from None
            if isinstance(exc.__cause__, ToolError | VideogenError):  # e.g. a StorageError from any tool
                raise ToolError(str(exc.__cause__)) from None
            raise

    async def _arguments_of(self, tool: str) -> list[str] | None:
        """The tool's argument names from its input schema; None for a tool that does not exist."""
        if tool not in self._argument_names:
            self._argument_names = {t.name: list(t.input_schema.get("properties", {}))
                                    for t in await super().list_tools()}
        return self._argument_names.get(tool)


class AppState:
    def __init__(self, settings: Settings, allow_local_files: bool) -> None:
        self.settings = settings
        self.allow_local_files = allow_local_files
        self.service: TaskService | None = None

    def require_service(self) -> TaskService:
        if self.service is None:
            raise ToolError("the server is still starting; try again in a moment")
        return self.service


def build_server(settings: Settings, *, transport: str = "stdio") -> VideogenServer:
    state = AppState(settings, allow_local_files=transport == "stdio" or settings.allow_local_files)
    bus = InMemorySubscriptionBus()
    legacy = LegacySubscriptions()
    tasks_extension = TasksExtension(generate_result)

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[AppState]:
        notifier = Notifier(bus, legacy)
        async with open_service(settings) as service, anyio.create_task_group() as group:
            service.events.add_listener(notifier.task_changed)
            group.start_soon(notifier.run)
            state.service = service
            tasks_extension.start(service, group)
            try:
                yield state
            finally:
                tasks_extension.stop()
                state.service = None
                group.cancel_scope.cancel()

    server = VideogenServer(state, name="videogen-mcp", version=__version__, instructions=INSTRUCTIONS,
                            lifespan=lifespan, subscriptions=bus, extensions=[tasks_extension])
    legacy.install(server)
    install_legacy_tasks(server)
    install_task_listen(server, TaskListenHandler(bus, tasks_extension.notification, declares_extension,
                                                  tasks_extension.identifier))
    _add_tools(server, state)
    _add_resources(server, state)
    return server


def _add_tools(server: MCPServer, state: AppState) -> None:
    @server.tool(description=PROVIDERS_DESCRIPTION, annotations=READ_ONLY)
    def list_providers() -> ProviderList:
        return ProviderList(providers=state.require_service().providers())

    @server.tool(description=GENERATE_DESCRIPTION, annotations=GENERATES)
    async def generate_video(
        image: Annotated[str, Field(description="https:// URL, data:image/...;base64 URI, or absolute local path.")],
        prompt: Annotated[Prompt, Field(description="What should happen in the video.")],
        ctx: Context,
        provider: Annotated[str | None, Field(description=PROVIDER_ARGUMENT)] = None,
        model: Annotated[str | None, Field(description="Canonical model id such as kling-v2.1-i2v-pro "
                                                       "(the default); see list_providers.")] = None,
        duration: Annotated[int, Field(strict=True, description="Video length in whole seconds, as the model "
                                                                "allows (see list_providers): 5 or 10, or 3-15 "
                                                                "on Kling 3.0.")] = 5,
        negative_prompt: Annotated[NegativePrompt, Field(description="What to avoid.")] = None,
        guidance_scale: Annotated[GuidanceScale, Field(description=f"How closely to follow the prompt, {MIN_GUIDANCE}-"
                                                                   f"{MAX_GUIDANCE} (default 0.5).")] = None,
        wait_seconds: Annotated[WaitSeconds, Field(description="How long to wait for the video before "
                                                               f"returning (0-{MAX_WAIT} s).")] = 45,
        end_image: Annotated[str | None, Field(description="The video's last frame, in the same forms as image; only "
                                                           "on models with an end frame (list_providers).")] = None,
        sound: Annotated[bool | None, Field(description="Native audio; only on models with sound (list_providers). "
                                                        "Off unless true.")] = None,
        price: Annotated[Any, Resolve(confirm.quote)] = None,
        confirmation: Annotated[ElicitationResult[confirm.Confirm], Resolve(confirm.ask)] = None,
    ) -> Annotated[CallToolResult, Task]:
        service = state.require_service()
        started = anyio.current_time()
        confirmed = confirm.confirmed_usd(confirmation, price)  # asked before anything is stored or sent
        request = GenerateRequest(image, prompt, provider, model, duration, negative_prompt, guidance_scale,
                                  end_image, sound)
        as_task = running_as_task()  # the host follows it through MCP Tasks: hand it over once it is stored
        with user_errors():
            task = await service.generate(request, allow_local_files=state.allow_local_files,
                                          submit_wait=0 if as_task else max(wait_seconds, MIN_SUBMIT_WAIT),
                                          confirmed_usd=confirmed)
        if as_task:
            return task_result(task)
        left = max(0.0, wait_seconds - (anyio.current_time() - started))
        task = await service.wait(task.task_id, left, _reporter(ctx))
        return task_result(task)

    @server.tool(description=GET_DESCRIPTION, annotations=READ_ONLY)
    async def get_task(
        task_id: Annotated[TaskId, Field(description="The task_id to look up.")],
        ctx: Context,
        wait_seconds: Annotated[WaitSeconds, Field(description="Wait up to this long for the task to finish "
                                                               f"(0-{MAX_WAIT} s).")] = 0,
    ) -> Annotated[CallToolResult, Task]:
        service = state.require_service()
        with user_errors():
            task = await service.wait(task_id, wait_seconds, _reporter(ctx) if wait_seconds else None)
        return task_result(task)

    @server.tool(description=CANCEL_DESCRIPTION, annotations=CANCELS)
    async def cancel_task(task_id: Annotated[TaskId, Field(description="The task_id to cancel.")]) -> Annotated[
            CallToolResult, Task]:
        with user_errors():
            task = await state.require_service().cancel(task_id)
        return task_result(task)

    @server.tool(description=LIST_DESCRIPTION, annotations=READ_ONLY)
    async def list_tasks(
        status: Annotated[StatusFilter, Field(description="Only tasks with this status.")] = None,
        limit: Annotated[Limit, Field(description="How many of the newest tasks.")] = 20,
    ) -> TaskList:
        with user_errors():
            return TaskList(tasks=await state.require_service().list(status, limit))


def _add_resources(server: MCPServer, state: AppState) -> None:
    @server.resource("task://{task_id}", name="task", mime_type="application/json",
                     description="A video task as JSON; subscribe to be told of every change.")
    async def task_resource(task_id: str) -> str:
        try:
            return (await state.require_service().get(task_id)).model_dump_json()
        except InvalidInput as exc:  # no such task, or an id no task can have
            raise ResourceNotFoundError(str(exc)) from None


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the project's errors into isError tool results carrying their sentence."""
    try:
        yield
    except VideogenError as exc:
        raise ToolError(str(exc)) from None


def _reporter(ctx: Context) -> Any:
    async def report(progress: float, message: str) -> None:
        await ctx.report_progress(progress, 100, message)

    return report


def task_result(task: Task) -> CallToolResult:
    structured = task.model_dump(mode="json")
    text = f"{guidance(task)}\n{json.dumps(structured, ensure_ascii=False)}"
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def generate_result(task: Task) -> CallToolResult:
    """What generate_video returns for a finished task: a submit the provider refused is its isError sentence."""
    if task.status == "failed" and not task.provider_task_id and task.error:
        return CallToolResult(content=[TextContent(type="text", text=task.error)], is_error=True)
    return task_result(task)


def guidance(task: Task) -> str:
    if task.status == "completed":
        where = task.video_path or task.video_url
        note = f" Note: {task.error}" if task.error else ""
        return f"The video is ready: {where}.{note}"
    if task.status in ("failed", "cancelled"):
        return f"The generation {task.status} at {task.provider}: {task.error or 'no reason given'}."
    if not task.provider_task_id:
        return (
            f"The task is still being submitted to {task.provider}. Call get_task with "
            f'task_id="{task.task_id}" and wait_seconds=45 (again until it is completed or failed) to follow it. '
            "Do not call generate_video again for it."
        )
    return (
        f"The video is not ready yet ({task.status}, {task.progress}%). Call get_task with "
        f'task_id="{task.task_id}" and wait_seconds=45, again until it is completed or failed; it keeps running '
        "in the background. Do not call generate_video again for it."
    )
