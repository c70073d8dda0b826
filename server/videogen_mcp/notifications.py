"""Tells MCP clients of task changes in both protocol eras.

2026-07-28 clients listen with `subscriptions/listen` over the SDK's subscription bus; TaskListenHandler
replaces the SDK's handler to also serve the tasks extension's `taskIds` filter (`notifications/tasks`).
2025-11-25 clients use `resources/subscribe`, which MCPServer (mcp 2.3) has no public hook for: the
glue below registers it on the low-level server. It is the one place that touches private SDK API: that glue,
and the pieces MCP Tasks need on 2025-11-25 (the `tasks` capability, CreateTaskResult as a `tools/call`
result, notifications sent outside any request, and the listen handler for `taskIds`), each pinned by
tests/unit/test_sdk_glue_tasks.py.
A session is forgotten when its connection ends (the SDK unwinds the connection's exit stack) or when
sending to it fails, so closed and abandoned HTTP sessions leave nothing behind.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types
import mcp_types.methods as sdk_methods
from mcp.server import subscriptions as sdk_subscriptions
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ResourcesListChanged, ResourceUpdated
from mcp.shared.exceptions import MCPError
from mcp_types import _v2025_11_25 as legacy_types
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from videogen_mcp.models import resource_uri

log = logging.getLogger(__name__)


class LegacySubscriptions:
    """`resources/subscribe` for 2025-11-25 sessions, and `list_changed` to every session seen."""

    def __init__(self) -> None:
        self._sessions: dict[int, Any] = {}  # connection id -> a session that can notify it
        self._subscribed: dict[str, set[int]] = {}

    def install(self, server: MCPServer) -> None:
        low = server._lowlevel_server
        low.add_request_handler("resources/subscribe", types.SubscribeRequestParams, self._subscribe)
        low.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, self._unsubscribe)
        low.middleware.append(self._remember)
        original = low.create_initialization_options

        def widened(notification_options: NotificationOptions | None = None, *args: Any, **kwargs: Any) -> Any:
            options = notification_options or NotificationOptions(resources_changed=True)
            return original(options, *args, **kwargs)

        low.create_initialization_options = widened  # type: ignore[method-assign]

    @property
    def session_count(self) -> int:
        """How many 2025-11-25 sessions are remembered (each is forgotten when it ends)."""
        return len(self._sessions)

    def subscriber_count(self, uri: str) -> int:
        return len(self._subscribed.get(uri, ()))

    async def _remember(self, ctx: Any, call_next: Any) -> Any:
        session = getattr(ctx, "session", None)
        if session is not None and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            self._add(session)
        return await call_next(ctx)

    async def _subscribe(self, ctx: Any, params: types.SubscribeRequestParams) -> types.EmptyResult:
        self._subscribed.setdefault(str(params.uri), set()).add(self._add(ctx.session))
        return types.EmptyResult()

    async def _unsubscribe(self, ctx: Any, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        self._discard(str(params.uri), _key(ctx.session))
        return types.EmptyResult()

    def _add(self, session: Any) -> int:
        """Remember a session until its connection ends; return its key."""
        key = _key(session)
        if key not in self._sessions:
            self._sessions[key] = session
            connection = getattr(session, "_connection", None)
            if connection is not None:
                connection.exit_stack.callback(self._forget, key)
        return key

    def _forget(self, key: int) -> None:
        self._sessions.pop(key, None)
        for uri in list(self._subscribed):
            self._discard(uri, key)

    def _discard(self, uri: str, key: int) -> None:
        keys = self._subscribed.get(uri)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._subscribed[uri]

    async def updated(self, uri: str) -> None:
        for key in list(self._subscribed.get(uri, ())):
            await self._send(key, lambda s: s.send_resource_updated(uri))

    async def list_changed(self) -> None:
        for key in list(self._sessions):
            await self._send(key, lambda s: s.send_resource_list_changed())

    async def _send(self, key: int, send: Any) -> None:
        session = self._sessions.get(key)
        if session is None:
            return
        try:
            await send(session)
        except Exception:  # the client went away: forget it
            self._forget(key)


def _key(session: Any) -> int:
    return id(getattr(session, "_connection", session))


class Notifier:
    """Queues task changes from the poller and delivers them, so a slow client never stalls polling."""

    def __init__(self, bus: InMemorySubscriptionBus, legacy: LegacySubscriptions) -> None:
        self._bus = bus
        self._legacy = legacy
        self._send, self._receive = anyio.create_memory_object_stream[tuple[str, bool]](math.inf)

    async def task_changed(self, task_id: str, created: bool) -> None:
        self._send.send_nowait((task_id, created))

    async def run(self) -> None:
        async for task_id, created in self._receive:
            try:
                await self._deliver(task_id, created)
            except Exception:
                log.exception("could not deliver a change notification")

    async def _deliver(self, task_id: str, created: bool) -> None:
        uri = resource_uri(task_id)
        if created:
            await self._bus.publish(ResourcesListChanged())
            await self._legacy.list_changed()
        await self._bus.publish(ResourceUpdated(uri=uri))
        await self._bus.publish(TaskChanged(task_id))
        await self._legacy.updated(uri)


class SessionGone(Exception):
    """A notification could not be sent: the client's connection has ended."""


async def notify(session: Any, method: str, params: dict[str, Any]) -> None:
    """Send a notification on the session's connection, outside any request (the request may have ended),
    keeping `null` fields (a task's `ttl`) that the SDK's typed notifications drop."""
    try:
        await session._connection.notify(method, params)
    except Exception as exc:
        raise SessionGone(str(exc)) from exc


def install_legacy_tasks(server: MCPServer) -> None:
    """2025-11-25 experimental tasks: advertise `capabilities.tasks` in initialize, and let a `tools/call`
    answer a CreateTaskResult (the SDK validates every 2025-11-25 tools/call result as a CallToolResult)."""
    low = server._lowlevel_server
    original = low.create_initialization_options

    def with_tasks(*args: Any, **kwargs: Any) -> Any:
        options = original(*args, **kwargs)
        options.capabilities.tasks = types.ServerTasksCapability(
            list=types.TasksListCapability(), cancel=types.TasksCancelCapability(),
            requests=types.ServerTasksRequestsCapability(tools=types.TasksToolsCapability(
                call=types.TasksCallCapability())))
        return options

    low.create_initialization_options = with_tasks  # type: ignore[method-assign]
    if not getattr(sdk_methods.serialize_server_result, "videogen_tasks", False):
        sdk_methods.serialize_server_result = _serialize_with_tasks(sdk_methods.serialize_server_result)


def _serialize_with_tasks(original: Any) -> Any:
    def serialize(method: str, version: str, data: Any, **kwargs: Any) -> dict[str, Any]:
        if method == "tools/call" and "task" in data and "content" not in data:
            model = legacy_types.CreateTaskResult.model_validate(data, by_name=False)
            dumped = model.model_dump(by_alias=True, mode="json", exclude_none=True)
            dumped["task"]["ttl"] = model.task.ttl  # required on the wire, null for unlimited
            return dumped
        return original(method, version, data, **kwargs)

    serialize.videogen_tasks = True  # type: ignore[attr-defined]
    return serialize


@dataclass(frozen=True)
class TaskChanged:
    """A bus event beside the SDK's own: the task changed (only TaskListenHandler streams deliver it)."""

    task_id: str


#: SEP-2663: a client that did not declare the tasks extension asked for task notifications.
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
TASK_NOTIFICATION = "notifications/tasks"


class TaskListenHandler(ListenHandler):
    """`subscriptions/listen` as the SDK serves it, plus `taskIds`: those tasks' DetailedTask as `notifications/tasks`.

    `detailed(task_id, version)` is what tasks/get answers (None for an unknown task); `declares(ctx)` says whether
    the request declared the tasks extension. A stream is sent each task's state when it opens, then each change of
    status or status message. It serves every listen stream: the SDK's handler drops `taskIds` from the filter and
    fails on events it does not know, so this is a copy of its loop (pinned by tests/unit/test_sdk_glue_tasks.py).
    """

    def __init__(self, bus: InMemorySubscriptionBus, detailed: Callable[[str, str], Awaitable[dict[str, Any] | None]],
                 declares: Callable[[Any], bool], extension: str) -> None:
        super().__init__(bus)
        self._detailed = detailed
        self._declares = declares
        self._extension = extension

    async def __call__(self, ctx: Any, params: types.SubscriptionsListenRequestParams) -> Any:
        wanted = (params.notifications.model_extra or {}).get("taskIds") or []
        if wanted and not self._declares(ctx):
            raise MCPError(MISSING_REQUIRED_CLIENT_CAPABILITY, "asking for task notifications needs the "
                           f"{self._extension} extension: declare it in the client capabilities",
                           {"requiredCapabilities": {"extensions": {self._extension: {}}}})
        return await self._serve(ctx, params, wanted)

    async def _serve(self, ctx: Any, params: types.SubscriptionsListenRequestParams, wanted: list[Any]) -> Any:
        subscription_id = ctx.request_id
        version = ctx.protocol_version
        task_ids = [t for t in dict.fromkeys(wanted) if isinstance(t, str) and await self._detailed(t, version)]
        honored = sdk_subscriptions._honored_subset(params.notifications)
        uris = frozenset(honored.resource_subscriptions or ())
        meta: dict[str, Any] = {sdk_subscriptions.SUBSCRIPTION_ID_META_KEY: subscription_id}
        send, receive = anyio.create_memory_object_stream[Any](self._max_buffered_events)

        def deliver(event: Any) -> None:
            if (event.task_id in task_ids if isinstance(event, TaskChanged)
                    else sdk_subscriptions.event_matches(honored, uris, event)):
                try:
                    send.send_nowait(event)
                except (anyio.ClosedResourceError, anyio.WouldBlock):
                    send.close()  # a client that stopped reading: end its stream, as the SDK's handler does

        unsubscribe = self._bus.subscribe(deliver)
        self._streams.add(send)
        sent: dict[str, tuple[Any, Any]] = {}
        try:
            agreed = honored.model_dump(by_alias=True, exclude_none=True) | ({"taskIds": task_ids} if wanted else {})
            ack = {"notifications": agreed, "_meta": meta}
            await ctx.session._request_outbound.notify("notifications/subscriptions/acknowledged", ack)
            for task_id in task_ids:
                await self._send_task(ctx, task_id, meta, sent)
            async for event in receive:
                if isinstance(event, TaskChanged):
                    await self._send_task(ctx, event.task_id, meta, sent)
                else:
                    await ctx.session.send_notification(sdk_subscriptions.event_to_notification(event, meta),
                                                        related_request_id=subscription_id)
        finally:
            sdk_subscriptions._safe_unsubscribe(unsubscribe)
            self._streams.discard(send)
            send.close()
            receive.close()
        return types.SubscriptionsListenResult(_meta=meta)

    async def _send_task(self, ctx: Any, task_id: str, meta: dict[str, Any], sent: dict[str, tuple[Any, Any]]) -> None:
        task = await self._detailed(task_id, ctx.protocol_version)
        if task is None or sent.get(task_id) == (task["status"], task.get("statusMessage")):
            return  # gone, or nothing a client would see changed (a poll with the same progress)
        sent[task_id] = (task["status"], task.get("statusMessage"))
        await ctx.session._request_outbound.notify(TASK_NOTIFICATION, {**task, "_meta": meta})


def install_task_listen(server: MCPServer, handler: TaskListenHandler) -> None:
    """Serve `subscriptions/listen` with `handler` instead of the SDK's own."""
    server._lowlevel_server.add_request_handler("subscriptions/listen", types.SubscriptionsListenRequestParams,
                                                handler)
