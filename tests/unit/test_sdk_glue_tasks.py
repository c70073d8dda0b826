"""The private SDK pieces MCP Tasks rely on (notifications.py): an SDK upgrade that moves them fails here, loudly."""

from __future__ import annotations

import inspect

import mcp_types.methods as sdk_methods
from mcp.server.mcpserver import MCPServer
from mcp.server.runner import ServerRunner
from mcp.server.session import ServerSession
from mcp_types import _v2025_11_25 as legacy_types

from videogen_mcp.notifications import install_legacy_tasks


def test_the_runner_still_looks_up_serialize_server_result_on_the_module_at_call_time():
    assert "_methods.serialize_server_result(" in inspect.getsource(ServerRunner._serialize)


def test_a_legacy_tools_call_may_answer_a_create_task_result():
    server = MCPServer("glue")
    install_legacy_tasks(server)
    task = {"taskId": "t1", "status": "working", "createdAt": "2026-01-01T00:00:00Z",
            "lastUpdatedAt": "2026-01-01T00:00:00Z", "ttl": None, "pollInterval": 1000}
    dumped = sdk_methods.serialize_server_result("tools/call", "2025-11-25", {"task": task})
    assert dumped["task"]["ttl"] is None and legacy_types.CreateTaskResult.model_validate(dumped)
    plain = sdk_methods.serialize_server_result("tools/call", "2025-11-25", {"content": []})
    assert plain == {"content": []} or plain.get("content") == []


def test_initialize_advertises_the_tasks_capability():
    server = MCPServer("glue")
    install_legacy_tasks(server)
    tasks = server._lowlevel_server.create_initialization_options().capabilities.tasks
    assert tasks is not None and tasks.list is not None and tasks.cancel is not None
    assert tasks.requests.tools.call is not None


def test_sessions_still_reach_their_connection_to_notify_outside_a_request():
    assert "_connection" in inspect.getsource(ServerSession.__init__)
    from mcp.server.connection import Connection

    assert inspect.iscoroutinefunction(Connection.notify)


def test_the_listen_handler_copy_still_finds_the_sdk_pieces_it_reuses():
    from mcp.server import subscriptions
    from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
    from mcp_types import SubscriptionFilter

    handler = ListenHandler(InMemorySubscriptionBus())
    assert {"_bus", "_streams", "_max_buffered_events"} <= set(vars(handler))
    for name in ("_honored_subset", "_safe_unsubscribe", "event_matches", "event_to_notification"):
        assert callable(getattr(subscriptions, name)), name
    assert subscriptions.SUBSCRIPTION_ID_META_KEY == "io.modelcontextprotocol/subscriptionId"
    asked = SubscriptionFilter.model_validate({"resourcesListChanged": True, "taskIds": ["t1"]})
    assert asked.model_extra == {"taskIds": ["t1"]}  # the extension's key reaches our handler
    assert "taskIds" not in subscriptions._honored_subset(asked).model_dump(by_alias=True, exclude_none=True)


def test_sessions_still_have_a_request_scoped_outbound_for_listen_streams():
    assert "self._request_outbound = request_outbound" in inspect.getsource(ServerSession.__init__)


def test_our_listen_handler_replaces_the_sdks():
    from mcp.server.subscriptions import InMemorySubscriptionBus

    from videogen_mcp.notifications import TaskListenHandler, install_task_listen

    server = MCPServer("glue")
    handler = TaskListenHandler(InMemorySubscriptionBus(), lambda task_id, version: None, lambda ctx: True, "x")
    install_task_listen(server, handler)
    assert server._lowlevel_server._request_handlers["subscriptions/listen"].handler is handler
