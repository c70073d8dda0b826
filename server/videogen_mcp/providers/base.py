"""What every provider is (the `Provider` protocol), and the base of the hosted ones: pure translation between
our request and one provider's wire format, sent through the shared HTTP layer."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import httpx2

from videogen_mcp.catalog import Offering
from videogen_mcp.errors import KeyRejected, OutOfCredit, SubmitOutcomeUnknown, UnexpectedReply
from videogen_mcp.http import HttpClient, ProviderHttp, outcome_unknown
from videogen_mcp.images import ImageInput
from videogen_mcp.models import TaskStatus

if TYPE_CHECKING:
    from videogen_mcp.config import Settings

#: How a local image reaches the provider: its upload endpoint, a data URI in the request, or read here.
ImageTransport = Literal["upload", "data_uri", "bytes"]


@dataclass(frozen=True)
class SubmitRequest:
    offering: Offering
    prompt: str
    duration: int
    negative_prompt: str | None = None
    guidance_scale: float | None = None
    #: The last frame, checked like the first; only for offerings with an end frame.
    end_image: ImageInput | None = None
    #: Native audio; sent (as False when None) wherever the offering has an audio field.
    sound: bool | None = None


@dataclass(frozen=True)
class PollResult:
    """One poll reply, translated. `status` is None when the provider's status string is unknown."""

    status: TaskStatus | None
    raw_status: str
    progress: int | None = None
    eta_seconds: int | None = None
    video_url: str | None = None
    error: str | None = None


class Provider(Protocol):
    """What the service, the poller, the router and the downloader know of a provider, whichever it is.

    The class attributes are its capabilities; the classmethods let the registry list and build it from the
    settings, so nothing above `providers/` ever tests for a provider's name.
    """

    name: ClassVar[str]
    #: The variable holding its API key; None for a provider that needs no account.
    key_env_var: ClassVar[str | None]
    #: The variable that may move its API elsewhere (a proxy, a test fake); None when it runs here.
    base_url_env_var: ClassVar[str | None]
    #: The floor between two polls of one task; the schedule polls at it only near the expected end.
    poll_interval: ClassVar[float]
    #: True when poll replies carry a real percentage; otherwise progress is estimated from time.
    reports_progress: ClassVar[bool]
    #: False for a provider that runs here: its polls cost no request, so no poll budget applies.
    polls_over_network: ClassVar[bool]
    image_transport: ClassVar[ImageTransport]
    #: Where its API lives (its host and port are trusted for video downloads); None when it runs here.
    base_url: str | None
    #: The directory of its own renders: the only file:// video URLs the downloader takes.
    render_dir: Path | None

    @classmethod
    def configured(cls, settings: Settings) -> bool: ...

    @classmethod
    def build(cls, settings: Settings, client: HttpClient) -> Provider: ...

    @classmethod
    def setup(cls, configured: bool) -> str | None:
        """What list_providers says under it: how to configure it, or what it is."""

    @classmethod
    def not_configured(cls, configured: list[str], key_variables: list[str]) -> str:
        """The sentence refusing a call that names it while it is not configured (`configured`: the providers
        that are; `key_variables`: every provider's key variable)."""

    async def prepare_image(self, image: ImageInput) -> ImageInput:
        """The image as submit will take it, got ready before any task is stored (so a bad one leaves none)."""

    async def submit(self, req: SubmitRequest, image: ImageInput) -> str:
        """Start the job; returns the provider's task id. A ProviderError with `no_job` created none."""

    async def poll(self, provider_task_id: str) -> PollResult: ...

    async def cancel(self, provider_task_id: str) -> bool | None:
        """Ask the provider to stop the job: True confirmed, False refused, None when it documents no cancel."""

    def charged_usd(self, provider_task_id: str) -> float | None:
        """What the provider reported the job it just accepted cost, in USD (asked once, right after submit);
        None when it reports nothing."""


class HttpProvider:
    """Base of the hosted providers (one API key, one base URL). Subclasses translate; ProviderHttp sends."""

    name: ClassVar[str]
    default_base_url: ClassVar[str]
    key_env_var: ClassVar[str | None] = None
    base_url_env_var: ClassVar[str | None] = None
    polls_over_network: ClassVar[bool] = True
    image_transport: ClassVar[ImageTransport] = "data_uri"
    #: Shortest sensible gap between two polls of one task, per the provider's guidance.
    #: The floor between two polls of one task; the schedule polls at it only near the expected end.
    poll_interval: ClassVar[float] = 1.0
    #: True when poll replies carry a real percentage; otherwise progress is estimated from time.
    reports_progress: ClassVar[bool] = False
    #: The directory of the provider's own renders: the only file:// video URLs the downloader takes.
    render_dir: Path | None = None
    #: Where the provider documents an account status differently from http.STATUS_MEANINGS.
    status_meanings: ClassVar[Mapping[int, type[KeyRejected | OutOfCredit]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:  # each provider's variables follow from its name: WAVESPEED_API_KEY, ...
            cls.key_env_var = f"{cls.name.upper()}_API_KEY"
            cls.base_url_env_var = f"{cls.name.upper()}_BASE_URL"

    def __init__(self, api_key: str, base_url: str | None, client: HttpClient) -> None:
        self._api_key = api_key
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.http = ProviderHttp(client, self.name, self.error_text, api_key, meanings=self.status_meanings,
                                 key_env_var=self.key_env_var)
        self._charged: dict[str, float] = {}

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return bool(settings.api_keys.get(cls.name))

    @classmethod
    def build(cls, settings: Settings, client: HttpClient) -> HttpProvider:
        return cls(settings.api_keys[cls.name], settings.base_urls.get(cls.name), client)

    @classmethod
    def setup(cls, configured: bool) -> str | None:
        return None if configured else f"set {cls.key_env_var} to your {cls.name} API key"

    @classmethod
    def not_configured(cls, configured: list[str], key_variables: list[str]) -> str:
        return f"provider {cls.name!r} is not configured: set {cls.key_env_var} in the server's environment"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx2.Request:
        headers = {**self.auth_headers(), **kwargs.pop("headers", {})}
        return httpx2.Request(method, self.url(path), headers=headers, **kwargs)

    async def prepare_image(self, image: ImageInput) -> ImageInput:
        """The image as submit will take it, got ready before any task is stored (so a bad one leaves none)."""
        return image

    async def image_reference(self, image: ImageInput) -> str:
        """What goes in the request's image field: the URL, or the checked bytes as the provider takes them."""
        if image.url:
            return image.url
        return await self.upload(image) if self.image_transport == "upload" else image.data_uri()

    async def upload(self, image: ImageInput) -> str:
        """Upload the image to the provider; returns the URL its submit takes (image_transport "upload")."""
        raise NotImplementedError

    async def submit(self, req: SubmitRequest, image: ImageInput) -> str:
        """Submit the job; returns the provider's task id."""
        image_ref = await self.image_reference(image)
        end_ref = await self.image_reference(req.end_image) if req.end_image is not None else None
        reply = await self.http.send(self.submit_request(req, image_ref, end_ref), idempotent=False)
        try:
            task_id = self.parse_submit(reply)
        except UnexpectedReply as exc:  # a 2xx we cannot read may still have started a paid job
            raise outcome_unknown(self.name, f"sent a submit reply this server cannot read ({exc})") from None
        if self.http.holds_secret(task_id):  # polling it would send the key in a URL, and store it
            raise SubmitOutcomeUnknown(
                f"{self.name} answered with a job id that contains the API key, so the server will not follow "
                f"it: the job may still run and be billed, so check the {self.name} dashboard before submitting again"
            )
        charged = self.parse_charged(reply)
        if charged is not None:
            self._charged[task_id] = charged
        return task_id

    def charged_usd(self, provider_task_id: str) -> float | None:
        return self._charged.pop(provider_task_id, None)

    async def poll(self, provider_task_id: str) -> PollResult:
        result = self.parse_poll(await self.http.send(self.poll_request(provider_task_id), idempotent=True))
        # whatever a provider wrote that reaches a task (its reason, a status quoted because it is unknown, the
        # video URL) is stored without the key; a video URL signed with the key is then fetched without it
        return replace(result, error=self.http.redact(result.error), raw_status=self.http.redact(result.raw_status),
                       video_url=self.http.redact_whole(result.video_url))

    async def cancel(self, provider_task_id: str) -> bool | None:
        """Ask the provider to stop the job: True confirmed, False refused, None when it documents no cancel."""
        return None

    # Translation, one provider each.
    def submit_request(self, req: SubmitRequest, image_ref: str, end_ref: str | None = None) -> httpx2.Request:
        raise NotImplementedError

    def parse_submit(self, body: Any) -> str:
        raise NotImplementedError

    def poll_request(self, provider_task_id: str) -> httpx2.Request:
        raise NotImplementedError

    def parse_poll(self, body: Any) -> PollResult:
        raise NotImplementedError

    def error_text(self, body: Any) -> str | None:
        """The provider's own message in an error body, if it has one."""
        raise NotImplementedError

    def parse_charged(self, body: Any) -> float | None:
        """What a submit reply says the job cost, in USD; None for a provider that reports no cost."""
        return None

    def unexpected(self, what: str) -> UnexpectedReply:
        return UnexpectedReply(f"{self.name} sent an unexpected reply: {what}")


#: The name the hosted providers' tests and subclasses have always used.
Adapter = HttpProvider


def optional_fields(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def offering_fields(req: SubmitRequest, end_ref: str | None) -> dict[str, Any]:
    """The fields named by the offering's catalog row: guidance, the end frame, and the audio flag (always sent
    where the model has one, False unless asked, so no provider default bills for audio unasked)."""
    offering = req.offering
    fields: dict[str, Any] = {}
    if offering.guidance_parameter and req.guidance_scale is not None:
        fields[offering.guidance_parameter] = req.guidance_scale
    if offering.end_image_field and end_ref is not None:
        fields[offering.end_image_field] = end_ref
    if offering.sound_field:
        fields[offering.sound_field] = bool(req.sound)
    return fields


def wire_duration(req: SubmitRequest, usual: type) -> int | str:
    """The duration in the form the offering documents, else the provider's usual one."""
    return (req.offering.duration_wire or usual)(req.duration)


def dig(body: Any, *keys: str | int) -> Any:
    """body[k1][k2]... or None when any step is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(body, list) or len(body) <= key:
                return None
        elif not isinstance(body, dict):
            return None
        body = body[key] if isinstance(key, int) else body.get(key)
    return body


def as_int(value: Any, limit: int = 10**7) -> int | None:
    """A number a provider sent, as an int within ±limit (an absurd ETA must not overflow the store)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return max(-limit, min(int(number), limit)) if math.isfinite(number) else None
