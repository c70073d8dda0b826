"""Money in the service layer: prices, unknown prices counted at the highest known, the budget in the store,
failover held to the budget and to the confirmed price, and AI/ML's reported cost."""

from __future__ import annotations

import threading

import pytest

from tests.support.rig import task
from videogen_mcp import catalog
from videogen_mcp.config import load_settings
from videogen_mcp.errors import ConfigError
from videogen_mcp.providers.aimlapi import AimlApi
from videogen_mcp.tasks import money
from videogen_mcp.tasks.store import Budget, OverBudget, TaskStore

SINCE = "2000-01-01T00:00:00.000Z"


def test_every_hosted_offering_has_a_price_or_a_reason():
    for offering in catalog.OFFERINGS:
        pricing = offering.pricing
        for duration in offering.model.durations:
            if pricing.price(duration) is None:
                assert pricing.note, offering
            else:
                assert pricing.source and pricing.read, offering


def test_an_unknown_price_counts_at_the_highest_known_for_that_model_and_duration():
    price = money.price_of("myrouter", "kling-v2.1-i2v-pro", 5)
    assert price.usd is None
    assert price.counted == 0.45  # wavespeed's, above gptproto's 0.392
    assert "unpublished" in price.describe() and "$0.45" in price.describe()
    assert money.price_of("gptproto", "kling-v2.1-i2v-standard", 10).counted == 2.60  # none for the model: any


def test_aimlapi_reports_cost_in_usd_or_credits():
    parse = AimlApi.parse_charged
    assert parse(None, {"meta": {"usage": {"credits_used": 1575000}}}) == pytest.approx(0.7875)
    assert parse(None, {"meta": {"usage": {"credits_used": 1575000, "usd_spent": 0.79}}}) == 0.79
    assert parse(None, {"id": "x"}) is None


@pytest.mark.parametrize("value", ["ten", "-1", "nan", "inf"])
def test_bad_money_values_stop_start_up(value):
    with pytest.raises(ConfigError, match="VIDEOGEN_CONFIRM_ABOVE_USD"):
        load_settings({"VIDEOGEN_CONFIRM_ABOVE_USD": value})


def test_the_store_never_accepts_more_than_the_cap_from_many_threads_and_connections(tmp_path):
    stores = [TaskStore(tmp_path / "tasks.db") for _ in range(4)]
    accepted: list[str] = []

    def insert(store: TaskStore, n: int) -> None:
        try:
            store.insert(task(f"t{n}", cost_usd=0.45), {}, counted_usd=0.45, budget=Budget(2.0, SINCE))
            accepted.append(f"t{n}")
        except OverBudget:
            pass

    threads = [threading.Thread(target=insert, args=(stores[n % 4], n)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(accepted) == 4
    assert stores[0].spent_since(SINCE) == pytest.approx(1.80)


def test_a_task_of_unknown_cost_counts_what_it_was_counted_at(tmp_path):
    store = TaskStore(tmp_path / "tasks.db")
    store.insert(task("a", cost_usd=None), {}, counted_usd=0.45)
    assert store.spent_since(SINCE) == pytest.approx(0.45)
    with pytest.raises(OverBudget) as refused:
        store.insert(task("b"), {}, counted_usd=0.45, budget=Budget(0.5, SINCE))
    assert refused.value.spent == pytest.approx(0.45)
    assert store.get("b") is None


def test_a_failover_to_a_pricier_provider_is_rechecked_against_the_budget(tmp_path):
    store = TaskStore(tmp_path / "tasks.db")
    store.insert(task("a", cost_usd=0.28), {}, counted_usd=0.28)  # at gptproto, $0.28
    store.insert(task("b", cost_usd=0.28), {}, counted_usd=0.28)
    with pytest.raises(OverBudget):
        store.charge("b", 1.30, 1.30, Budget(1.0, SINCE))  # failover to wavespeed master
    assert store.get("b").cost_usd == 0.28
    store.charge("b", 0.45, 0.45, Budget(1.0, SINCE))  # its own earlier amount is left out
    assert store.spent_since(SINCE) == pytest.approx(0.73)
