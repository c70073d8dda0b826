"""The model catalog: canonical Kling models and how each provider names and prices them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from videogen_mcp.errors import InvalidInput

DEFAULT_MODEL = "kling-v2.1-i2v-pro"
#: Kling 3.0 takes any whole number of seconds from 3 to 15.
V3_DURATIONS = tuple(range(3, 16))
#: Where no provider states a generation time, a guess per second of video until times are learned
#: (tasks/typical.py): 300 s for 5 s, as for any model before, and longer for longer clips.
UNSTATED_SECONDS_PER_VIDEO_SECOND = 60.0
#: The local provider renders about this many seconds per second of video.
LOCAL_SECONDS_PER_VIDEO_SECOND = 0.8


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


def not_read(provider: str) -> Pricing:
    """A model after v2.5: providers/API.md "Prices" records no price for it at this provider."""
    return unpublished(f"no {provider} price for this model has been read yet")


def free(durations: tuple[int, ...]) -> Pricing:
    """The local provider's price: nothing, at every length it renders."""
    return published("runs on this machine", "2026-12-01", {d: 0.0 for d in durations})


@dataclass(frozen=True)
class Forbidden:
    """Arguments an offering takes one at a time but refuses together, and where that is documented."""

    arguments: frozenset[str]
    source: str


@dataclass(frozen=True)
class Offering:
    """One canonical model as served by one provider, with everything it accepts (nothing of it lives in code)."""

    provider: str
    model: ModelSpec
    provider_model_id: str
    #: The provider's name for guidance_scale; None when this offering takes no guidance.
    guidance_parameter: str | None = "guidance_scale"
    prompt_required: bool = False
    mode: str | None = None
    pricing: Pricing = field(default_factory=lambda: unpublished("no price is recorded for this offering"))
    #: Overrides the model's typical generation time where this provider is much faster.
    typical_seconds: dict[int, float] | None = None
    #: The lengths it takes, in seconds (the model's own set unless stated).
    durations: tuple[int, ...] = ()
    #: How `duration` goes on the wire (int or str); None: the provider's usual form.
    duration_wire: type | None = None
    #: The field carrying the last frame; None: no end frame.
    end_image_field: str | None = None
    #: The boolean field switching native audio; None: no audio. Always sent where it exists.
    sound_field: str | None = None
    forbidden: tuple[Forbidden, ...] = ()
    #: A preview that answers to every model id (not the model itself): left out where the models are named.
    preview: bool = False

    @property
    def end_image(self) -> bool:
        return self.end_image_field is not None

    @property
    def sound(self) -> bool:
        return self.sound_field is not None


MODELS = {
    m.id: m
    for m in (
        ModelSpec("kling-v2.1-i2v-pro", {5: 210, 10: 420}),
        ModelSpec("kling-v2.1-i2v-standard", {5: 150, 10: 300}),
        ModelSpec("kling-v2.1-i2v-master", {5: 330, 10: 750}),
        ModelSpec("kling-v2.5-turbo-pro-i2v", {5: 120, 10: 240}),
        # No provider states generation times for these: the estimate below serves until times are learned.
        ModelSpec("kling-v3.0-std-i2v", {}, V3_DURATIONS),
        ModelSpec("kling-v3.0-pro-i2v", {}, V3_DURATIONS),
        ModelSpec("kling-v2.6-pro-i2v", {}),
    )
}

#: AI/ML API: "AI/ML's v3 omni refuses an end frame with audio on" (providers/API.md, Kling models after v2.5).
AIML_V3_END_FRAME_AUDIO = Forbidden(frozenset({"end_image", "sound"}),
                                    "AI/ML API refuses an end frame with audio on its Kling v3 models")


def _offer(provider: str, model: str, own_id: str, **extra) -> Offering:
    extra.setdefault("durations", MODELS[model].durations)
    return Offering(provider, MODELS[model], own_id, **extra)


def _v3(provider: str, model: str, own_id: str, **extra) -> Offering:
    """A Kling 3.0 row: integer duration 3-15, cfg_scale, an end frame and audio (API.md, all [C])."""
    return _offer(provider, model, own_id, guidance_parameter="cfg_scale", duration_wire=int, **extra)


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
    # After v2.5 (providers/API.md, "Kling models after v2.5"); prices unpublished unless stated there.
    _v3("wavespeed", "kling-v3.0-std-i2v", "kwaivgi/kling-v3.0-std/image-to-video",
        end_image_field="end_image", sound_field="sound", pricing=not_read("WaveSpeed")),
    _v3("wavespeed", "kling-v3.0-pro-i2v", "kwaivgi/kling-v3.0-pro/image-to-video",
        end_image_field="end_image", sound_field="sound", pricing=not_read("WaveSpeed")),
    _v3("aimlapi", "kling-v3.0-std-i2v", "klingai/video-v3-standard-image-to-video",
        end_image_field="tail_image_url", sound_field="generate_audio", forbidden=(AIML_V3_END_FRAME_AUDIO,),
        pricing=unpublished(AIMLAPI_UNKNOWN)),
    _v3("aimlapi", "kling-v3.0-pro-i2v", "klingai/video-v3-pro-image-to-video",
        end_image_field="tail_image_url", sound_field="generate_audio", forbidden=(AIML_V3_END_FRAME_AUDIO,),
        pricing=unpublished(AIMLAPI_UNKNOWN)),
    _v3("myrouter", "kling-v3.0-std-i2v", "kling-v3.0-std-i2v", end_image_field="end_image", sound_field="sound",
        pricing=unpublished(MYROUTER_UNKNOWN)),
    _v3("myrouter", "kling-v3.0-pro-i2v", "kling-v3.0-pro-i2v", end_image_field="end_image", sound_field="sound",
        pricing=unpublished(MYROUTER_UNKNOWN)),
    # v2.6 pro: 5 or 10 s, no guidance. WaveSpeed's row waits until its end-frame field is settled
    # (its pages say both last_image and end_image).
    _offer("gptproto", "kling-v2.6-pro-i2v", "kwaivgi/kling-v2.6-pro/image-to-video", guidance_parameter=None,
           end_image_field="last_image", sound_field="sound", pricing=not_read("GPTProto")),
    _offer("aimlapi", "kling-v2.6-pro-i2v", "klingai/video-v2-6-pro-image-to-video", guidance_parameter=None,
           sound_field="generate_audio", pricing=unpublished(AIMLAPI_UNKNOWN)),
    # The offline provider answers to every canonical id, so a call works unchanged with no account; it can end
    # on an end frame (a cross-fade), but makes no sound.
    *(
        _offer("local", model, "camera-move", pricing=free(spec.durations),
               typical_seconds={d: LOCAL_SECONDS_PER_VIDEO_SECOND * d for d in spec.durations},
               end_image_field="end_image", preview=True)
        for model, spec in MODELS.items()
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
    return table.get(duration, UNSTATED_SECONDS_PER_VIDEO_SECOND * max(duration, 5))


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
