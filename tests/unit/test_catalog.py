"""The model catalog: canonical ids, provider-own ids, and clear errors listing what is valid."""

from __future__ import annotations

import pytest

from videogen_mcp.catalog import DEFAULT_MODEL, MODELS, offerings, resolve
from videogen_mcp.errors import InvalidInput

CANONICAL = list(MODELS)
# The table in DESIGN.md: canonical id -> provider-own id (and myrouter's mode).
TABLE = {
    "kling-v2.1-i2v-pro": {
        "wavespeed": "kwaivgi/kling-v2.1-i2v-pro", "gptproto": "kwaivgi/kling-v2.1-i2v-pro",
        "aimlapi": "kling-video/v2.1/pro/image-to-video", "myrouter": ("kling-v2.1-i2v", "Professional"),
    },
    "kling-v2.1-i2v-standard": {
        "wavespeed": "kwaivgi/kling-v2.1-i2v-standard", "gptproto": "kwaivgi/kling-v2.1-i2v-standard",
        "aimlapi": "kling-video/v2.1/standard/image-to-video", "myrouter": ("kling-v2.1-i2v", "Standard"),
    },
    "kling-v2.1-i2v-master": {
        "wavespeed": "kwaivgi/kling-v2.1-i2v-master", "gptproto": "kwaivgi/kling-v2.1-i2v-master",
        "aimlapi": "klingai/v2.1-master-image-to-video", "myrouter": ("kling-v2.1-i2v-master", None),
    },
    "kling-v2.5-turbo-pro-i2v": {
        "wavespeed": "kwaivgi/kling-v2.5-turbo-pro/image-to-video",
        "gptproto": "kwaivgi/kling-v2.5-turbo-pro/image-to-video",
        "aimlapi": "klingai/v2.5-turbo/pro/image-to-video", "myrouter": ("kling-2.5-turbo-i2v", None),
    },
}
ROWS = [(provider, model, own) for model, row in TABLE.items() for provider, own in row.items()]


def test_catalog_keeps_the_four_seed_models():  # the models after v2.5: tests/unit/test_models_after_v25.py
    assert set(TABLE) <= set(CANONICAL)
    assert DEFAULT_MODEL == "kling-v2.1-i2v-pro"


@pytest.mark.parametrize(("provider", "model", "own"), ROWS)
def test_canonical_id_resolves_to_the_provider_model_id(provider, model, own):
    own_id, mode = own if isinstance(own, tuple) else (own, None)
    offering = resolve(provider, model)
    assert (offering.provider, offering.model.id, offering.provider_model_id, offering.mode) == (
        provider, model, own_id, mode)
    assert offering.model.durations == (5, 10)


@pytest.mark.parametrize("provider", ["wavespeed", "gptproto", "aimlapi", "myrouter"])
@pytest.mark.parametrize("model", [None, ""])
def test_no_model_means_the_default_model(provider, model):
    assert resolve(provider, model).model.id == DEFAULT_MODEL


def test_whitespace_only_model_means_the_default_model():
    assert resolve("wavespeed", "  ").model.id == DEFAULT_MODEL


@pytest.mark.parametrize(
    ("provider", "own_id", "canonical"),
    [
        ("wavespeed", "kwaivgi/kling-v2.1-i2v-pro", "kling-v2.1-i2v-pro"),
        ("gptproto", "kwaivgi/kling-v2.5-turbo-pro/image-to-video", "kling-v2.5-turbo-pro-i2v"),
        ("aimlapi", "klingai/v2.1-master-image-to-video", "kling-v2.1-i2v-master"),
        ("aimlapi", "kling-video/v2.1/standard/image-to-video", "kling-v2.1-i2v-standard"),
        ("myrouter", "kling-2.5-turbo-i2v", "kling-v2.5-turbo-pro-i2v"),
        ("myrouter", "kling-v2.1-i2v-master", "kling-v2.1-i2v-master"),
        ("wavespeed", "  kwaivgi/kling-v2.1-i2v-pro  ", "kling-v2.1-i2v-pro"),
    ],
)
def test_provider_own_model_id_resolves_to_its_canonical_model(provider, own_id, canonical):
    offering = resolve(provider, own_id)
    assert offering.model.id == canonical
    assert offering.provider == provider


@pytest.mark.parametrize(
    ("provider", "guidance"),
    [("wavespeed", "guidance_scale"), ("gptproto", "guidance_scale"), ("aimlapi", "cfg_scale"),
     ("myrouter", "cfg_scale")],
)
def test_turbo_guidance_parameter_per_provider(provider, guidance):
    assert resolve(provider, "kling-v2.5-turbo-pro-i2v").guidance_parameter == guidance


def test_myrouter_ambiguous_model_id_lists_both_canonical_models():
    with pytest.raises(InvalidInput) as caught:
        resolve("myrouter", "kling-v2.1-i2v")
    message = str(caught.value)
    assert "'kling-v2.1-i2v'" in message
    assert "kling-v2.1-i2v-pro" in message and "kling-v2.1-i2v-standard" in message


@pytest.mark.parametrize("provider", ["wavespeed", "gptproto", "aimlapi", "myrouter"])
@pytest.mark.parametrize("model", ["kling-v9", "kwaivgi/kling-v2.5-turbo-std/image-to-video", "KLING-V2.1-I2V-PRO"])
def test_unknown_model_lists_the_valid_ids(provider, model):
    with pytest.raises(InvalidInput) as caught:
        resolve(provider, model)
    message = str(caught.value)
    assert message.startswith(f"unknown model {model!r}; {provider} serves: ")
    for offering in offerings(provider):
        assert offering.model.id in message


def test_another_providers_own_id_is_not_accepted():
    with pytest.raises(InvalidInput, match="unknown model"):
        resolve("aimlapi", "kwaivgi/kling-v2.1-i2v-pro")
