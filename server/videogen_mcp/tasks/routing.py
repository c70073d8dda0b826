"""Routing between the service and the providers: which providers a call may use and in what order, when a
submit moves on to the next one (only when no job can exist), and each provider's health in this process."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from videogen_mcp import catalog
from videogen_mcp.config import Settings
from videogen_mcp.errors import InvalidInput, ProviderError
from videogen_mcp.images import ImageInput
from videogen_mcp.models import Failover, Health
from videogen_mcp.providers import REGISTRY, Provider, SubmitRequest, key_variables, registered

#: Submits in a row that failed without creating a job before a provider is degraded ...
DEGRADE_AFTER = 3
#: ... for this many seconds, during which calls naming no provider try it only after every healthy one.
DEGRADED_SECONDS = 60.0

#: Called before a submit moves to another provider: store the task as running there first.
MovingTo = Callable[[str, list[Failover]], Awaitable[None]]


@dataclass(frozen=True)
class Attempt:
    provider: Provider
    offering: catalog.Offering


@dataclass
class _Record:
    failures: int = 0
    until: float = 0.0
    reason: str | None = None
    until_text: str | None = None


@dataclass
class Route:
    """The providers one call may use, in order: the first is where its task is stored."""

    attempts: list[Attempt]
    router: Router
    #: Degraded providers moved behind the healthy ones, as the task shows them.
    skipped: list[Failover] = field(default_factory=list)
    #: The call named its provider: no failover.
    explicit: bool = False

    @property
    def first(self) -> Attempt:
        return self.attempts[0]

    def keeping(self, check: Callable[[catalog.Offering], None]) -> Route:
        """Only the attempts whose offering passes `check` (it raises InvalidInput); the first refusal when none does.

        Resellers of one model may differ in what they take (an end frame, a combination), so a call naming no
        provider goes to those that can serve it as asked, and nothing is sent where it would be refused.
        """
        kept, refusals = [], []
        for attempt in self.attempts:
            try:
                check(attempt.offering)
            except InvalidInput as exc:
                refusals.append(exc)
            else:
                kept.append(attempt)
        if not kept:
            raise refusals[0]
        names = [a.provider.name for a in kept]
        skipped = [f for f in self.skipped if f.provider in names[1:]]
        return Route(kept, self.router, skipped, self.explicit)

    async def submit(self, request: SubmitRequest, image: ImageInput, moving_to: MovingTo) -> str:
        """Submit at the first provider that takes the job; move on only after a failure that created none."""
        failover = list(self.skipped)
        for index, attempt in enumerate(self.attempts):
            name = attempt.provider.name
            if index:
                await moving_to(name, [f for f in failover if f.provider != name])
            try:
                job = await attempt.provider.submit(_for(request, attempt.offering), image)
            except ProviderError as exc:
                self.router.failed(name, exc)
                if self.explicit or not exc.no_job or index == len(self.attempts) - 1:
                    raise
                failover.append(Failover(provider=name, reason=str(exc)))
                continue
            self.router.succeeded(name)
            return job
        raise AssertionError("a route has at least one attempt")


class Router:
    def __init__(self, settings: Settings, providers: Mapping[str, Provider],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._providers = providers
        self._clock = clock
        self._health: dict[str, _Record] = {}

    def route(self, provider: str | None, model: str | None) -> Route:
        """The route for a call, or InvalidInput saying why no provider can serve it."""
        if provider is not None and provider.strip():
            attempt = Attempt(self._provider(provider), catalog.resolve(provider.strip().lower(), model))
            return Route([attempt], self, explicit=True)
        pool = [name for name in self._settings.pool_order() if name in self._providers]
        if not pool:
            self._provider(self._settings.chosen_default())  # says how to configure one
            pool = [self._settings.chosen_default()]
        first = catalog.resolve(pool[0], model) if len(pool) == 1 else self._first_serving(pool, model)
        attempts = [Attempt(self._providers[first.provider], first)]
        for name in pool:
            if name != first.provider and (offering := _serving(name, first.model.id)) is not None:
                attempts.append(Attempt(self._providers[name], offering))
        healthy = [a for a in attempts if not self._degraded(a.provider.name)]
        degraded = [a for a in attempts if self._degraded(a.provider.name)]
        skipped = [Failover(provider=a.provider.name, reason=self._degraded_reason(a.provider.name))
                   for a in degraded if healthy]
        return Route(healthy + degraded, self, skipped)

    def _first_serving(self, pool: list[str], model: str | None) -> catalog.Offering:
        errors = []
        for name in pool:
            try:
                return catalog.resolve(name, model)
            except InvalidInput as exc:
                errors.append(exc)
        raise errors[0]

    def _provider(self, name: str) -> Provider:
        name = name.strip().lower()
        cls = registered(name)
        if cls is None:
            names = ", ".join(c.name for c in REGISTRY)
            raise InvalidInput(f"unknown provider {name!r}; choose one of: {names}")
        if name not in self._providers:
            raise InvalidInput(cls.not_configured(list(self._providers), key_variables()))
        return self._providers[name]

    # -- health ------------------------------------------------------------------------------
    def health(self, name: str) -> Health:
        if not self._degraded(name):
            return Health(status="ok")
        record = self._health[name]
        return Health(status="degraded", reason=record.reason, until=record.until_text)

    def failed(self, name: str, error: ProviderError) -> None:
        if not error.no_job:
            return
        record = self._health.setdefault(name, _Record())
        record.failures += 1
        record.reason = str(error)
        if record.failures >= DEGRADE_AFTER:
            record.failures = 0
            record.until = self._clock() + DEGRADED_SECONDS
            stamp = datetime.now(UTC) + timedelta(seconds=DEGRADED_SECONDS)
            record.until_text = stamp.isoformat(timespec="seconds").replace("+00:00", "Z")

    def succeeded(self, name: str) -> None:
        self._health.pop(name, None)

    def _degraded(self, name: str) -> bool:
        record = self._health.get(name)
        return record is not None and record.until > self._clock()

    def _degraded_reason(self, name: str) -> str:
        record = self._health[name]
        return (f"{name} is degraded until {record.until_text} after {DEGRADE_AFTER} submits in a row failed "
                f"({record.reason})")


def _serving(provider: str, model_id: str) -> catalog.Offering | None:
    return next((o for o in catalog.offerings(provider) if o.model.id == model_id), None)


def _for(request: SubmitRequest, offering: catalog.Offering) -> SubmitRequest:
    return replace(request, offering=offering)
