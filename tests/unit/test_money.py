"""Money in the service layer: prices, unknown prices counted at the highest known, and AI/ML's reported cost
(the budget in the store is part of the store contract, tests/unit/test_store.py)."""

from __future__ import annotations

import pytest

from videogen_mcp import catalog
from videogen_mcp.config import load_settings
from videogen_mcp.errors import ConfigError
from videogen_mcp.providers.aimlapi import AimlApi
from videogen_mcp.tasks import money


def test_every_hosted_offering_has_a_price_or_a_reason():
    for offering in catalog.OFFERINGS:
        pricing = offering.pricing
        for duration in offering.durations:
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


def test_a_model_after_v25_without_a_published_price_counts_at_the_highest_known():
    assert money.price_of("wavespeed", "kling-v3.0-pro-i2v", 5).usd is None
    assert money.price_of("wavespeed", "kling-v3.0-pro-i2v", 5).counted == 1.30  # any model's highest for 5 s
    assert money.price_of("myrouter", "kling-v3.0-std-i2v", 3).counted == pytest.approx(0.78)  # $0.26/s x 3
    assert money.price_of("aimlapi", "kling-v3.0-std-i2v", 15).counted == pytest.approx(3.90)
    assert money.price_of("local", "kling-v3.0-std-i2v", 15).usd == 0.0
