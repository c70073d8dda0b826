"""TaskService.cancel in-process: cancelled in the store before the provider is asked, whatever it answers."""

from __future__ import annotations

import anyio
import pytest

from tests.support.rig import IMAGE_URL, JOB, FakeAdapter, completed, put, rig, until
from videogen_mcp.errors import TaskFinished, TaskNotFound
from videogen_mcp.tasks import service as service_module
from videogen_mcp.tasks.service import GenerateRequest

pytestmark = pytest.mark.anyio


def request() -> GenerateRequest:
    return GenerateRequest(image=IMAGE_URL, prompt="a cat walks", provider="wavespeed")


class CancellingAdapter(FakeAdapter):
    """A provider whose cancel answers `answer` (True confirmed, False refused, None: it documents no cancel)."""

    def __init__(self, answer: bool | None = True, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.answer = answer
        self.cancels: list[tuple[str, str]] = []  # (provider job id, the task's status when the provider was asked)
        self.store = None

    async def cancel(self, provider_task_id: str) -> bool | None:
        self.cancels.append((provider_task_id, (await self.store.get("t1")).status if self.store else "?"))
        return self.answer


async def test_cancel_before_the_submit_answered_never_asks_the_provider_and_stays_cancelled(tmp_path):
    answered = anyio.Event()

    async def slow_submit() -> str:
        await answered.wait()
        return JOB

    adapter = CancellingAdapter(submit=slow_submit)
    async with rig(tmp_path, adapter) as r:
        made = await r.service.generate(request(), submit_wait=0)
        assert made.provider_task_id is None
        cancelled = await r.service.cancel(made.task_id)
        answered.set()  # the provider creates the job after all
        await until(lambda: made.task_id not in r.poller.following)
        after = await r.service.get(made.task_id)
    assert cancelled.status == "cancelled" and "while it was being submitted to wavespeed" in cancelled.error
    assert "may still run and be billed" in cancelled.error
    assert adapter.cancels == [] and not adapter.polls
    assert after.status == "cancelled"


@pytest.mark.parametrize(("answer", "says"), [
    (True, "wavespeed confirmed it stopped job job-1"),
    (False, "wavespeed did not confirm stopping job job-1: it may still finish and be billed"),
    (None, "wavespeed offers no way to stop job job-1, so it may still finish and be billed"),
])
async def test_cancel_while_processing_asks_the_provider_once_after_the_task_is_cancelled(tmp_path, answer, says):
    adapter = CancellingAdapter(answer)
    async with rig(tmp_path, adapter) as r:
        adapter.store = r.store
        await put(r.store, status="processing", provider_task_id=JOB)
        cancelled = await r.service.cancel("t1")
    assert cancelled.status == "cancelled" and says in cancelled.error
    assert adapter.cancels == [(JOB, "cancelled")]  # cancelled here before the provider was asked


async def test_a_provider_that_never_answers_the_cancel_is_not_waited_for(tmp_path, monkeypatch):
    monkeypatch.setattr(service_module, "CANCEL_WAIT", 0.01)

    class Silent(CancellingAdapter):
        async def cancel(self, provider_task_id: str) -> bool | None:
            await anyio.sleep_forever()

    async with rig(tmp_path, Silent()) as r:
        await put(r.store, status="processing", provider_task_id=JOB)
        cancelled = await r.service.cancel("t1")
    assert cancelled.status == "cancelled" and "did not confirm" in cancelled.error


async def test_a_poll_in_flight_that_finds_the_job_done_changes_nothing(tmp_path):
    answered = anyio.Event()

    async def done_later():
        await answered.wait()
        return completed()

    adapter = CancellingAdapter(False, polls=[done_later])
    async with rig(tmp_path, adapter) as r:
        made = await r.service.generate(request())
        await until(lambda: adapter.polls)  # the poll is in flight
        await r.service.cancel(made.task_id)
        answered.set()  # the provider answers: the video is ready
        await until(lambda: made.task_id not in r.poller.following)
        after = await r.service.get(made.task_id)
    assert after.status == "cancelled" and after.video_url is None and len(adapter.polls) == 1


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
async def test_cancelling_a_finished_task_is_refused_and_leaves_it_alone(tmp_path, status):
    adapter = CancellingAdapter()
    async with rig(tmp_path, adapter) as r:
        error = "the provider said no" if status == "failed" else None
        await put(r.store, status=status, provider_task_id=JOB, error=error)
        with pytest.raises(TaskFinished, match=f"already {status}, so there is nothing to cancel"):
            await r.service.cancel("t1")
        after = await r.service.get("t1")
        with pytest.raises(TaskNotFound):
            await r.service.cancel("no-such-task")
    assert after.status == status and adapter.cancels == []
