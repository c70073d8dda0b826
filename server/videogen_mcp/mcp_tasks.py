"""MCP Tasks in both protocol eras, over TaskService: the generation's task_id is the MCP taskId.

2025-11-25 (experimental tasks): a `tools/call` whose params carry `task` answers a CreateTaskResult;
`tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel`; `notifications/tasks/status`, and the call's
progress token keeps working. 2026-07-28 (`io.modelcontextprotocol/tasks`, SEP-2663): a request that
declares the extension gets `resultType: "task"`; `tasks/get` inlines the result once terminal;
`tasks/cancel` and `tasks/update` acknowledge. Built on the SDK's public Extension API; the few private
bits (the 2025-11-25 capability and result shape, sending outside a request) live in notifications.py.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import mcp_types.methods as sdk_methods
from anyio.abc import TaskGroup
from mcp.server.extension import Extension, MethodBinding
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolRequestParams, CallToolResult, RequestParams
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from pydantic import Field

from videogen_mcp import notifications
from videogen_mcp.errors import InvalidInput
from videogen_mcp.models import Task
from videogen_mcp.tasks.requests import MAX_WAIT

if TYPE_CHECKING:
    from videogen_mcp.tasks.service import TaskService

log = logging.getLogger(__name__)

IDENTIFIER = "io.modelcontextprotocol/tasks"
RELATED_TASK = "io.modelcontextprotocol/related-task"
#: The only tool that may run as a task.
TASK_TOOL = "generate_video"
#: pollInterval bounds, in milliseconds.
MIN_POLL_MS, MAX_POLL_MS = 1_000, 30_000
#: Tasks per tasks/list page.
PAGE_SIZE = 50
LEGACY = frozenset(HANDSHAKE_PROTOCOL_VERSIONS)
MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)

#: Set while a tools/call runs as a task: the tool stores and hands over its task without waiting on it.
_AS_TASK: ContextVar[bool] = ContextVar("videogen_as_task", default=False)


def running_as_task() -> bool:
    """True inside a tools/call that will answer with a task handle (generate_video then returns at once)."""
    return _AS_TASK.get()


class TaskIdParams(RequestParams):
    task_id: str = Field(alias="taskId")


class UpdateParams(RequestParams):
    task_id: str = Field(alias="taskId")
    input_responses: dict[str, Any] | None = Field(default=None, alias="inputResponses")


class ListParams(RequestParams):
    cursor: str | None = None


class TasksExtension(Extension):
    identifier = IDENTIFIER

    def __init__(self, tool_result: Callable[[Task], CallToolResult]) -> None:
        self._tool_result = tool_result  # what generate_video returns for a task
        self._service: TaskService | None = None
        self._group: TaskGroup | None = None

    def start(self, service: TaskService, group: TaskGroup) -> None:
        """Called from the server's lifespan: the service to translate to, and where follow-ups run."""
        self._service, self._group = service, group

    def stop(self) -> None:
        self._service = self._group = None

    def methods(self) -> list[MethodBinding]:
        return [
            MethodBinding("tasks/get", TaskIdParams, self._get),
            MethodBinding("tasks/cancel", TaskIdParams, self._cancel),
            MethodBinding("tasks/result", TaskIdParams, self._result, protocol_versions=LEGACY),
            MethodBinding("tasks/list", ListParams, self._list, protocol_versions=LEGACY),
            MethodBinding("tasks/update", UpdateParams, self._update, protocol_versions=MODERN),
        ]

    # -- tools/call ----------------------------------------------------------------------------
    async def intercept_tool_call(self, params: CallToolRequestParams, ctx: Any, call_next: Any) -> Any:
        modern = ctx.protocol_version in MODERN
        wanted = declares_extension(ctx) if modern else getattr(params, "task", None) is not None
        if params.name != TASK_TOOL or not wanted:
            return await call_next(ctx)
        with _as_task():
            result = await call_next(ctx)
        task_id = _task_id_of(result)
        if task_id is None:  # refused (invalid arguments, no provider...): the isError result, no task
            return result
        task = await self._require().get(task_id)
        if modern:
            return {"resultType": "task", **await self._modern(task)}
        self._follow_for_session(ctx, params, task_id)
        return {"task": await self._legacy(task)}

    # -- methods -------------------------------------------------------------------------------
    async def _get(self, ctx: Any, params: TaskIdParams) -> dict[str, Any]:
        task = await self._task(params.task_id)
        if ctx.protocol_version in MODERN:
            return await self.detailed(task, ctx.protocol_version)
        return await self._legacy(task)

    async def _result(self, ctx: Any, params: TaskIdParams) -> dict[str, Any]:
        task = await self._task(params.task_id)
        while not task.finished:
            task = await self._require().wait(task.task_id, MAX_WAIT)
        result = self._call_result(task, ctx.protocol_version)
        result["_meta"] = {**result.get("_meta", {}), RELATED_TASK: {"taskId": task.task_id}}
        return result

    async def _list(self, ctx: Any, params: ListParams) -> dict[str, Any]:
        offset = _offset(params.cursor)
        tasks, more = await self._require().page(offset, PAGE_SIZE)
        listing: dict[str, Any] = {"tasks": [await self._legacy(t) for t in tasks]}
        if more:
            listing["nextCursor"] = base64.urlsafe_b64encode(str(offset + PAGE_SIZE).encode()).decode()
        return listing

    async def _cancel(self, ctx: Any, params: TaskIdParams) -> dict[str, Any]:
        await self._task(params.task_id)
        try:
            task = await self._require().cancel(params.task_id)
        except InvalidInput as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from None
        return {} if ctx.protocol_version in MODERN else await self._legacy(task)

    async def _update(self, ctx: Any, params: UpdateParams) -> dict[str, Any]:
        await self._task(params.task_id)  # a generation asks nothing of the client: responses are ignored
        return {}

    # -- shapes --------------------------------------------------------------------------------
    async def _common(self, task: Task) -> dict[str, Any]:
        seen = await self._require().outlook(task)
        status = _status(task)
        message = seen.message if status == "working" else (task.error or task.status)
        return {"taskId": task.task_id, "status": status, "statusMessage": message,
                "createdAt": task.created_at, "lastUpdatedAt": task.updated_at,
                "poll": min(max(round(seen.next_change * 1000), MIN_POLL_MS), MAX_POLL_MS)}

    async def _legacy(self, task: Task) -> dict[str, Any]:
        shape = await self._common(task)
        poll = shape.pop("poll")
        return {**shape, "ttl": None, "pollInterval": poll}

    async def _modern(self, task: Task) -> dict[str, Any]:
        shape = await self._common(task)
        poll = shape.pop("poll")
        shape = {**shape, "ttlMs": None, "pollIntervalMs": poll}
        if task.status in ("completed", "failed"):  # a provider's failure is a completed call carrying it
            shape["status"] = "completed"
            shape["statusMessage"] = task.error or task.status
        return shape

    async def detailed(self, task: Task, version: str) -> dict[str, Any]:
        """2026-07-28 DetailedTask (tasks/get, notifications/tasks): the task, with its result once completed."""
        shape = await self._modern(task)
        if shape["status"] == "completed":
            shape["result"] = self._call_result(task, version)
        return shape

    async def notification(self, task_id: str, version: str) -> dict[str, Any] | None:
        """A task's DetailedTask for `notifications/tasks`; None when there is no such task (or no service yet)."""
        if self._service is None:
            return None
        try:
            return await self.detailed(await self._service.get(task_id), version)
        except InvalidInput:
            return None

    def _call_result(self, task: Task, version: str) -> dict[str, Any]:
        """What generate_video's tools/call answers for this task, on the wire of `version`."""
        return sdk_methods.serialize_server_result("tools/call", version, self._tool_result(task).model_dump(
            by_alias=True, mode="json", exclude_none=True))

    # -- helpers -------------------------------------------------------------------------------
    def _require(self) -> TaskService:
        if self._service is None:
            raise MCPError(INVALID_PARAMS, "the server is still starting; try again in a moment")
        return self._service

    async def _task(self, task_id: str) -> Task:
        try:
            return await self._require().get(task_id)
        except InvalidInput as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from None

    def _follow_for_session(self, ctx: Any, params: CallToolRequestParams, task_id: str) -> None:
        """2025-11-25: keep the call's progress token working and send notifications/tasks/status."""
        if self._group is None:
            return
        meta = params.meta or {}
        token = meta.get("progressToken", meta.get("progress_token"))
        self._group.start_soon(self._follow, ctx.session, task_id, token, name=f"task status {task_id}")

    async def _follow(self, session: Any, task_id: str, token: Any) -> None:
        service = self._require()

        async def report(progress: float, message: str) -> None:
            if token is not None:
                await notifications.notify(session, "notifications/progress",
                                           {"progressToken": token, "progress": progress, "total": 100,
                                            "message": message})

        try:
            task = await service.get(task_id)
            while not task.finished:
                task = await service.wait(task_id, MAX_WAIT, report)
            await notifications.notify(session, "notifications/tasks/status", await self._legacy(task))
        except notifications.SessionGone:
            return  # the client went away: the task goes on; its status is read with tasks/get
        except Exception:
            log.exception("following task %s for its MCP session failed", task_id)


def declares_extension(ctx: Any) -> bool:
    """Whether the request's client capabilities declare the tasks extension."""
    capabilities = getattr(ctx.session, "client_capabilities", None)
    extensions = getattr(capabilities, "extensions", None) or {}
    return IDENTIFIER in extensions


def _task_id_of(result: Any) -> str | None:
    if isinstance(result, CallToolResult) and not result.is_error and isinstance(result.structured_content, dict):
        task_id = result.structured_content.get("task_id")
        return task_id if isinstance(task_id, str) else None
    return None


def _status(task: Task) -> str:
    return "working" if not task.finished else task.status


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        offset = -1
    if offset < 0:
        raise MCPError(INVALID_PARAMS, "the cursor is not one tasks/list gave out; start again without a cursor")
    return offset


@contextmanager
def _as_task() -> Iterator[None]:
    token = _AS_TASK.set(True)
    try:
        yield
    finally:
        _AS_TASK.reset(token)
