"""The model catalog: canonical Kling models and how each provider names and prices them."""

from __future__ import annotations

from collections.abc import Mapping
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
class Pricing:
    """What one offering costs per video duration in USD, where that was read and when.

    A duration missing from `usd`, or mapped to None, has no published price; `note` says why. Prices are
    never guessed: see providers/API.md "Prices".
    """

    usd: Mapping[int, float | None] = field(default_factory=dict)
    source: str | None = None
    #: The date (ISO 8601) the source was read.
    read: str | None = None
    note: str | None = None

    def price(self, duration: int) -> float | None:
        return self.usd.get(duration)


def published(source: str, read: str, usd: Mapping[int, float | None], note: str | None = None) -> Pricing:
    return Pricing(dict(usd), source, read, note)


def unpublished(reason: str) -> Pricing:
    return Pricing({}, None, None, reason)


#: Where each provider's prices come from (providers/API.md "Prices"), and the date they were read here.
WAVESPEED_PAGE = "WaveSpeed model page (billed per second, 5 s minimum)"
WAVESPEED_READ = "2026-12-01"
GPTPROTO_LIST = "GPTProto price list, 2026-09-25 snapshot (one per-run price, taken as 5 s)"
GPTPROTO_READ = "2026-09-25"
GPTPROTO_10S = "GPTProto lists one per-run price, for 5 s; no 10 s price is published"
AIMLAPI_UNKNOWN = ("AI/ML API publishes no per-model price in its docs (only live, through GET /v1/models "
                   "?include=pricing); each task's cost is what its submit reply reports")
MYROUTER_UNKNOWN = "myrouter publishes no price for its Kling models"
WAVESPEED_STANDARD_UNKNOWN = "WaveSpeed's page for this model shows no price"
FREE = published("runs on this machine", "2026-12-01", {5: 0.0, 10: 0.0})


@dataclass(frozen=True)
class Offering:
    """One canonical model as served by one provider."""

    provider: str
    model: ModelSpec
    provider_model_id: str
    guidance_parameter: str = "guidance_scale"
    prompt_required: bool = False
    mode: str | None = None
    pricing: Pricing = field(default_factory=lambda: unpublished("no price is recorded for this offering"))
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
    _offer("wavespeed", "kling-v2.1-i2v-pro", "kwaivgi/kling-v2.1-i2v-pro",
           pricing=published(WAVESPEED_PAGE, WAVESPEED_READ, {5: 0.45, 10: 0.90})),
    _offer("wavespeed", "kling-v2.1-i2v-standard", "kwaivgi/kling-v2.1-i2v-standard",
           pricing=unpublished(WAVESPEED_STANDARD_UNKNOWN)),
    _offer("wavespeed", "kling-v2.1-i2v-master", "kwaivgi/kling-v2.1-i2v-master",
           pricing=published(f"{WAVESPEED_PAGE}, $0.26 per second", WAVESPEED_READ, {5: 1.30, 10: 2.60})),
    _offer("wavespeed", "kling-v2.5-turbo-pro-i2v", "kwaivgi/kling-v2.5-turbo-pro/image-to-video",
           pricing=published(WAVESPEED_PAGE, WAVESPEED_READ, {5: 0.35, 10: 0.70})),
    _offer("gptproto", "kling-v2.1-i2v-pro", "kwaivgi/kling-v2.1-i2v-pro",
           pricing=published(GPTPROTO_LIST, GPTPROTO_READ, {5: 0.392, 10: None}, GPTPROTO_10S)),
    _offer("gptproto", "kling-v2.1-i2v-standard", "kwaivgi/kling-v2.1-i2v-standard",
           pricing=published(GPTPROTO_LIST, GPTPROTO_READ, {5: 0.224, 10: None}, GPTPROTO_10S)),
    _offer("gptproto", "kling-v2.1-i2v-master", "kwaivgi/kling-v2.1-i2v-master",
           pricing=published(GPTPROTO_LIST, GPTPROTO_READ, {5: 1.12, 10: None}, GPTPROTO_10S)),
    _offer("gptproto", "kling-v2.5-turbo-pro-i2v", "kwaivgi/kling-v2.5-turbo-pro/image-to-video",
           pricing=published(GPTPROTO_LIST, GPTPROTO_READ, {5: 0.28, 10: None}, GPTPROTO_10S)),
    _offer("aimlapi", "kling-v2.1-i2v-pro", "kling-video/v2.1/pro/image-to-video", guidance_parameter="cfg_scale",
           pricing=unpublished(AIMLAPI_UNKNOWN)),
    _offer(
        "aimlapi", "kling-v2.1-i2v-standard", "kling-video/v2.1/standard/image-to-video",
        guidance_parameter="cfg_scale", pricing=unpublished(AIMLAPI_UNKNOWN),
    ),
    _offer("aimlapi", "kling-v2.1-i2v-master", "klingai/v2.1-master-image-to-video", guidance_parameter="cfg_scale",
           pricing=unpublished(AIMLAPI_UNKNOWN)),
    _offer(
        "aimlapi", "kling-v2.5-turbo-pro-i2v", "klingai/v2.5-turbo/pro/image-to-video",
        guidance_parameter="cfg_scale", prompt_required=True, pricing=unpublished(AIMLAPI_UNKNOWN),
    ),
    _offer("myrouter", "kling-v2.1-i2v-pro", "kling-v2.1-i2v", mode="Professional",
           pricing=unpublished(MYROUTER_UNKNOWN)),
    _offer("myrouter", "kling-v2.1-i2v-standard", "kling-v2.1-i2v", mode="Standard",
           pricing=unpublished(MYROUTER_UNKNOWN)),
    _offer("myrouter", "kling-v2.1-i2v-master", "kling-v2.1-i2v-master", pricing=unpublished(MYROUTER_UNKNOWN)),
    _offer("myrouter", "kling-v2.5-turbo-pro-i2v", "kling-2.5-turbo-i2v", guidance_parameter="cfg_scale",
           pricing=unpublished(MYROUTER_UNKNOWN)),
    # The offline provider answers to every canonical id, so a call works unchanged with no account.
    *(
        _offer("local", model, "camera-move", pricing=FREE, typical_seconds={5: 4, 10: 8})
        for model in MODELS
    ),
)


def offerings(provider: str) -> list[Offering]:
    return [o for o in OFFERINGS if o.provider == provider]


def offering(provider: str, model: str) -> Offering | None:
    """The offering of this provider for a canonical model id, if it serves it."""
    return next((o for o in OFFERINGS if o.provider == provider and o.model.id == model), None)


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
