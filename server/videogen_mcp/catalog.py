"""The model catalog: canonical Kling models and how each provider names and prices them."""

from __future__ import annotations

from dataclasses import dataclass, field

from videogen_mcp.errors import InvalidInput

DEFAULT_MODEL = "kling-v2.1-i2v-pro"


@dataclass(frozen=True)
class ModelSpec:
    id: str
    #: Typical seconds a generation takes, per video duration (from provider docs).
    typical_seconds: dict[int, float]
    durations: tuple[int, ...] = (5, 10)


@dataclass(frozen=True)
class Offering:
    """One canonical model as served by one provider."""

    provider: str
    model: ModelSpec
    provider_model_id: str
    guidance_parameter: str = "guidance_scale"
    prompt_required: bool = False
    mode: str | None = None
    prices_usd: dict[int, float] = field(default_factory=dict)
    #: Overrides the model's typical generation time where this provider is much faster.
    typical_seconds: dict[int, float] | None = None


MODELS = {
    m.id: m
    for m in (
        ModelSpec("kling-v2.1-i2v-pro", {5: 210, 10: 420}),
        ModelSpec("kling-v2.1-i2v-standard", {5: 150, 10: 300}),
        ModelSpec("kling-v2.1-i2v-master", {5: 330, 10: 750}),
        ModelSpec("kling-v2.5-turbo-pro-i2v", {5: 120, 10: 240}),
    )
}


def _offer(provider: str, model: str, own_id: str, **extra) -> Offering:
    return Offering(provider, MODELS[model], own_id, **extra)


OFFERINGS: tuple[Offering, ...] = (
    _offer("wavespeed", "kling-v2.1-i2v-pro", "kwaivgi/kling-v2.1-i2v-pro", prices_usd={5: 0.45, 10: 0.90}),
    _offer("wavespeed", "kling-v2.1-i2v-standard", "kwaivgi/kling-v2.1-i2v-standard"),
    _offer("wavespeed", "kling-v2.1-i2v-master", "kwaivgi/kling-v2.1-i2v-master"),
    _offer("wavespeed", "kling-v2.5-turbo-pro-i2v", "kwaivgi/kling-v2.5-turbo-pro/image-to-video"),
    _offer("gptproto", "kling-v2.1-i2v-pro", "kwaivgi/kling-v2.1-i2v-pro"),
    _offer("gptproto", "kling-v2.1-i2v-standard", "kwaivgi/kling-v2.1-i2v-standard"),
    _offer("gptproto", "kling-v2.1-i2v-master", "kwaivgi/kling-v2.1-i2v-master"),
    _offer("gptproto", "kling-v2.5-turbo-pro-i2v", "kwaivgi/kling-v2.5-turbo-pro/image-to-video"),
    _offer("aimlapi", "kling-v2.1-i2v-pro", "kling-video/v2.1/pro/image-to-video", guidance_parameter="cfg_scale"),
    _offer(
        "aimlapi", "kling-v2.1-i2v-standard", "kling-video/v2.1/standard/image-to-video",
        guidance_parameter="cfg_scale",
    ),
    _offer("aimlapi", "kling-v2.1-i2v-master", "klingai/v2.1-master-image-to-video", guidance_parameter="cfg_scale"),
    _offer(
        "aimlapi", "kling-v2.5-turbo-pro-i2v", "klingai/v2.5-turbo/pro/image-to-video",
        guidance_parameter="cfg_scale", prompt_required=True,
    ),
    _offer("myrouter", "kling-v2.1-i2v-pro", "kling-v2.1-i2v", mode="Professional"),
    _offer("myrouter", "kling-v2.1-i2v-standard", "kling-v2.1-i2v", mode="Standard"),
    _offer("myrouter", "kling-v2.1-i2v-master", "kling-v2.1-i2v-master"),
    _offer("myrouter", "kling-v2.5-turbo-pro-i2v", "kling-2.5-turbo-i2v", guidance_parameter="cfg_scale"),
    # The offline provider answers to every canonical id, so a call works unchanged with no account.
    *(
        _offer("local", model, "camera-move", prices_usd={5: 0.0, 10: 0.0}, typical_seconds={5: 4, 10: 8})
        for model in MODELS
    ),
)


def offerings(provider: str) -> list[Offering]:
    return [o for o in OFFERINGS if o.provider == provider]


def typical_seconds(provider: str, model: str, duration: int) -> float:
    """How long a generation usually takes: the basis of progress estimates and the poll schedule."""
    offering = next((o for o in OFFERINGS if o.provider == provider and o.model.id == model), None)
    table = (offering and offering.typical_seconds) or (MODELS[model].typical_seconds if model in MODELS else {})
    return table.get(duration, 300.0)


def resolve(provider: str, model: str | None) -> Offering:
    """The offering for a canonical or provider-own model id, or InvalidInput listing what is valid."""
    name = (model or "").strip() or DEFAULT_MODEL
    served = offerings(provider)
    for offering in served:
        if name == offering.model.id:
            return offering
    own = [o for o in served if name == o.provider_model_id]
    if len(own) == 1:
        return own[0]
    if len(own) > 1:  # myrouter serves pro and standard under one id; the mode tells them apart
        ids = ", ".join(o.model.id for o in own)
        raise InvalidInput(f"{provider} serves {name!r} as several models; pass one of: {ids}")
    valid = ", ".join(o.model.id for o in served)
    if name in MODELS:
        raise InvalidInput(f"{provider} does not serve model {name!r}; it serves: {valid}")
    raise InvalidInput(f"unknown model {name!r}; {provider} serves: {valid}")
