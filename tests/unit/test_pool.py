"""Resellers as one pool: the order, failover only when no job can exist, Task.failover, and provider health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from tests.support.rig import FAST, LIMIT, FakeAdapter, completed, settled
from videogen_mcp.config import ConfigError, Settings, load_settings
from videogen_mcp.errors import InvalidInput
from videogen_mcp.http import error_for_status, outcome_unknown
from videogen_mcp.providers import PollResult
from videogen_mcp.tasks import routing
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.poller import Poller
from videogen_mcp.tasks.requests import GenerateRequest
from videogen_mcp.tasks.routing import Router
from videogen_mcp.tasks.service import TaskService, unwrap_single_error
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore

pytestmark = pytest.mark.anyio

IMAGE = "https://cdn.example.com/cat.png"
NAMES = ("wavespeed", "gptproto", "aimlapi", "myrouter")


def fake(name: str, **kwargs) -> FakeAdapter:
    cls = type(f"Fake_{name}", (FakeAdapter,), {"name": name})
    return cls([completed()], **kwargs)


def refused(name: str, status: int, message: str | None = None):
    return error_for_status(name, status, message)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def pool(tmp_path: Path, *adapters: FakeAdapter, clock: Clock | None = None,
               **settings: object) -> AsyncIterator[TaskService]:
    store = SqliteTaskStore(tmp_path / "tasks.db")
    by_name = {a.name: a for a in adapters}
    config = Settings(data_dir=tmp_path, api_keys={n: "k" for n in by_name}, local_available=False, **settings)
    try:
        with anyio.fail_after(LIMIT):
            async with unwrap_single_error(), anyio.create_task_group() as group:
                events = TaskEvents()
                poller = Poller(store, events, by_name, None, {n: FAST for n in by_name}, group)
                router = Router(config, by_name, clock or Clock())
                yield TaskService(config, store, events, by_name, poller, router)
                group.cancel_scope.cancel()
    finally:
        await store.close()


async def generate(service: TaskService, provider: str | None = None, model: str | None = None):
    task = await service.generate(GenerateRequest(IMAGE, "a cat walks", provider, model))
    return await settled(service._store, task.task_id)


# -- order ---------------------------------------------------------------------------------------


def test_default_order_is_the_default_provider_then_the_others_configured():
    env = {"AIMLAPI_API_KEY": "k", "WAVESPEED_API_KEY": "k", "MYROUTER_API_KEY": "k",
           "VIDEOGEN_DEFAULT_PROVIDER": "myrouter"}
    assert load_settings(env).pool_order() == ("myrouter", "wavespeed", "aimlapi")


def test_provider_order_variable_sets_the_order():
    env = {"VIDEOGEN_PROVIDER_ORDER": " AimlApi, wavespeed ,aimlapi", "WAVESPEED_API_KEY": "k"}
    assert load_settings(env).pool_order() == ("aimlapi", "wavespeed")


def test_a_bad_provider_order_names_the_variable():
    with pytest.raises(ConfigError, match=r"^VIDEOGEN_PROVIDER_ORDER must be provider names .* got 'sora'$"):
        load_settings({"VIDEOGEN_PROVIDER_ORDER": "wavespeed,sora"})


async def test_the_pool_tries_providers_in_the_configured_order(tmp_path):
    a, b = fake("aimlapi", submit=refused("aimlapi", 401)), fake("gptproto")
    async with pool(tmp_path, fake("wavespeed", submit=refused("wavespeed", 503)), a, b,
                    provider_order=("wavespeed", "aimlapi", "gptproto")) as service:
        task = await generate(service)
    assert task.status == "completed" and task.provider == "gptproto"
    assert [f.provider for f in task.failover] == ["wavespeed", "aimlapi"]
    assert len(b.submits) == 1


async def test_only_providers_serving_the_model_count(tmp_path):
    # AI/ML API's own id for v2.1 pro: gptproto serves the same canonical model, so the pool continues there
    wave, aiml, gpt = fake("wavespeed"), fake("aimlapi", submit=refused("aimlapi", 503)), fake("gptproto")
    async with pool(tmp_path, wave, aiml, gpt, provider_order=("aimlapi", "gptproto")) as service:
        task = await generate(service, model="kling-video/v2.1/pro/image-to-video")
    assert (task.provider, task.model) == ("gptproto", "kling-v2.1-i2v-pro")
    assert gpt.submits[0].offering.provider_model_id == "kwaivgi/kling-v2.1-i2v-pro"
    assert wave.submits == []  # configured, but not in the order


# -- failover ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 402, 403, 429, 503])
async def test_a_submit_refused_before_any_job_fails_over(tmp_path, status):
    first, second = fake("wavespeed", submit=refused("wavespeed", status, "Insufficient credit")), fake("gptproto")
    async with pool(tmp_path, first, second) as service:
        task = await generate(service)
    assert (task.status, task.provider, task.provider_task_id) == ("completed", "gptproto", "job-1")
    assert [f.model_dump() for f in task.failover] == [{"provider": "wavespeed", "reason": str(first.submit_step)}]
    assert (len(first.submits), len(second.submits)) == (1, 1)


@pytest.mark.parametrize("error", [
    outcome_unknown("wavespeed", "did not answer the submit request (ReadTimeout)"),
    outcome_unknown("wavespeed", "failed while answering the submit request (HTTP 500)"),
    outcome_unknown("wavespeed", "answered HTTP 200 with a body that is not JSON"),
])
async def test_a_submit_that_may_have_created_a_job_never_fails_over(tmp_path, error):
    first, second = fake("wavespeed", submit=error), fake("gptproto")
    async with pool(tmp_path, first, second) as service:
        with pytest.raises(type(error)):
            await generate(service)
        [task] = await service.list()
    assert (task.status, task.provider, task.error, task.failover) == ("failed", "wavespeed", str(error), [])
    assert "dashboard" in task.error
    assert second.submits == []


async def test_a_named_provider_never_fails_over(tmp_path):
    first, second = fake("wavespeed", submit=refused("wavespeed", 503)), fake("gptproto")
    async with pool(tmp_path, first, second) as service:
        with pytest.raises(Exception, match="wavespeed is unavailable"):
            await generate(service, provider="wavespeed")
    assert second.submits == []


async def test_when_every_provider_refuses_the_task_fails_with_the_last_reason(tmp_path):
    first = fake("wavespeed", submit=refused("wavespeed", 401))
    second = fake("gptproto", submit=refused("gptproto", 402))
    async with pool(tmp_path, first, second) as service:
        with pytest.raises(Exception, match="gptproto says the account is out of credit"):
            await generate(service)
        [task] = await service.list()
    assert (task.status, task.provider) == ("failed", "gptproto")
    assert [f.provider for f in task.failover] == ["wavespeed"]


async def test_the_store_names_the_next_provider_before_it_is_sent_the_job(tmp_path):
    """A crash during the second submit leaves the task pointing at the provider that may hold the job."""
    seen = []

    async def look():
        [row] = await service.list()
        seen.append((row.provider, [f.provider for f in row.failover], row.provider_task_id))
        return "job-2"

    first, second = fake("wavespeed", submit=refused("wavespeed", 503)), fake("gptproto", submit=look)
    async with pool(tmp_path, first, second) as service:
        task = await generate(service)
    assert seen == [("gptproto", ["wavespeed"], None)]
    assert (task.provider, task.provider_task_id) == ("gptproto", "job-2")


async def test_a_job_the_provider_fails_is_not_sent_elsewhere(tmp_path):
    first = fake("wavespeed")
    first.script.clear()
    first.script.append(PollResult("failed", "failed", error="nsfw"))
    second = fake("gptproto")
    async with pool(tmp_path, first, second) as service:
        task = await generate(service)
    assert (task.status, task.provider, task.error) == ("failed", "wavespeed", "nsfw")
    assert second.submits == []


async def test_a_call_without_failover_shows_an_empty_list(tmp_path):
    async with pool(tmp_path, fake("wavespeed"), fake("gptproto")) as service:
        task = await generate(service)
        assert (await service.get(task.task_id)).model_dump()["failover"] == []
    assert (task.provider, task.failover) == ("wavespeed", [])


# -- health --------------------------------------------------------------------------------------


async def test_three_refused_submits_degrade_a_provider_which_recovers_after_the_pause(tmp_path):
    clock = Clock()
    first, second = fake("wavespeed", submit=refused("wavespeed", 503)), fake("gptproto")
    second.script.extend([completed()] * 5)
    async with pool(tmp_path, first, second, clock=clock) as service:
        for _ in range(routing.DEGRADE_AFTER):
            await generate(service)
        health = {p.name: p.health for p in service.providers()}
        assert health["gptproto"].status == "ok"
        assert health["wavespeed"].status == "degraded" and "HTTP 503" in health["wavespeed"].reason
        assert health["wavespeed"].until.endswith("Z")

        skipped = await generate(service)  # not tried while degraded
        assert len(first.submits) == routing.DEGRADE_AFTER
        assert skipped.provider == "gptproto"
        assert "wavespeed is degraded until" in skipped.failover[0].reason

        clock.now += routing.DEGRADED_SECONDS + 1
        first.submit_step = "job-w"
        first.script.append(completed())
        again = await generate(service)
        assert (again.provider, again.failover) == ("wavespeed", [])
        assert {p.name: p.health.status for p in service.providers()}["wavespeed"] == "ok"


async def test_a_degraded_provider_is_still_tried_when_no_other_is_left(tmp_path):
    clock = Clock()
    first = fake("wavespeed", submit=refused("wavespeed", 503))
    async with pool(tmp_path, first, clock=clock) as service:
        for _ in range(routing.DEGRADE_AFTER):
            with pytest.raises(Exception, match="unavailable"):
                await generate(service)
        first.submit_step = "job-w"
        task = await generate(service)
    assert (task.provider, task.status, task.failover) == ("wavespeed", "completed", [])


async def test_failures_that_may_have_created_a_job_do_not_degrade(tmp_path):
    first = fake("wavespeed", submit=outcome_unknown("wavespeed", "failed (HTTP 500)"))
    async with pool(tmp_path, first) as service:
        for _ in range(routing.DEGRADE_AFTER):
            with pytest.raises(Exception, match="dashboard"):
                await generate(service)
        assert service.providers()[0].health.status == "ok"


async def test_nothing_configured_still_says_how_to_configure_one(tmp_path):
    async with pool(tmp_path) as service:
        with pytest.raises(InvalidInput, match=r"^no provider is configured: set one of WAVESPEED_API_KEY"):
            await generate(service)
