"""2026-07-28 task status as `notifications/tasks` on the `subscriptions/listen` streams that asked (SEP-2663)."""

from __future__ import annotations

import pytest

from tests.support.raw import MODERN, TASKS_EXTENSION, RawClient
from tests.support.servers import server_env

SUBSCRIPTION = "io.modelcontextprotocol/subscriptionId"


@pytest.fixture
def env(fake, tmp_path):
    return server_env(fake, tmp_path / "data")


def on_stream(stream: int):
    return lambda params: params.get("_meta", {}).get(SUBSCRIPTION) == stream


def test_a_listen_stream_that_asked_for_a_task_is_told_of_its_status_until_the_result(fake, env, png, tmp_path):
    fake.provider("wavespeed").job_seconds = 1.0
    log = (tmp_path / "server.log").open("w")
    client = RawClient(env, MODERN, {TASKS_EXTENSION: {}}, stderr=log)
    try:
        task_id = client.call("generate_video", {"image": str(png), "prompt": "a cat"})["result"]["taskId"]
        tasks = client.send("subscriptions/listen", {"notifications": {"taskIds": [task_id, "no-such-task"]}})
        others = client.send("subscriptions/listen", {"notifications": {"resourcesListChanged": True}})
        ack = client.wait_for("notifications/subscriptions/acknowledged", where=on_stream(tasks))["params"]
        done = client.wait_for("notifications/tasks", where=lambda p: p["status"] == "completed")["params"]
        got = client.request("tasks/get", {"taskId": task_id})["result"]
        client.wait_for("notifications/subscriptions/acknowledged", where=on_stream(others))
        client.call("generate_video", {"image": str(png), "prompt": "a dog"})  # a list change for the other stream
        client.wait_for("notifications/resources/list_changed", where=on_stream(others))
    finally:
        client.close()
        log.close()
    assert "Traceback" not in (tmp_path / "server.log").read_text()  # a stream without taskIds copes with task events
    assert ack["notifications"] == {"taskIds": [task_id]}  # an unknown id is not agreed to
    statuses = [n["params"] for n in client.notifications if n["method"] == "notifications/tasks"]
    assert statuses[0]["status"] == "working"  # the state when the stream opened comes first
    assert {p["taskId"] for p in statuses} == {task_id}
    assert {p["_meta"][SUBSCRIPTION] for p in statuses} == {tasks}  # never on the stream that did not ask
    done.pop("_meta")
    assert done == {key: value for key, value in got.items() if key not in ("_meta", "resultType")}  # as tasks/get
    assert done["result"]["structuredContent"]["task_id"] == task_id


def test_a_client_without_the_extension_may_not_ask_for_task_notifications(env):
    client = RawClient(env, MODERN, {})
    try:
        answer = client.request("subscriptions/listen", {"notifications": {"taskIds": ["t1"]}})
    finally:
        client.close()
    assert answer["error"]["code"] == -32021
    assert answer["error"]["data"] == {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}}
