"""Money: what a generation costs at a provider, what it counts against the daily budget, whether the user must
confirm it first, and the sentences refusing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from videogen_mcp import catalog
from videogen_mcp.config import Settings
from videogen_mcp.errors import InvalidInput

#: The rolling window the daily budget covers.
BUDGET_WINDOW = timedelta(hours=24)


class OverBudget(InvalidInput):
    """The generation would pass VIDEOGEN_DAILY_BUDGET_USD; nothing was sent."""


class NotConfirmed(InvalidInput):
    """The user did not confirm a generation priced above VIDEOGEN_CONFIRM_ABOVE_USD; nothing was sent."""


@dataclass(frozen=True)
class Price:
    """One generation at one provider: its catalog price (None: unpublished) and what the budget counts."""

    provider: str
    model: str
    duration: int
    usd: float | None
    #: What the budget and the confirmation threshold count: the price, or the highest known price for this
    #: duration when it is unpublished (so an unknown price never slips past a cap).
    counted: float

    def describe(self) -> str:
        if self.usd is not None:
            return f"${self.usd:.2f}"
        return f"an unpublished price (counted at ${self.counted:.2f}, the highest known price for {self.duration} s)"


def price_of(provider: str, model: str, duration: int) -> Price:
    offering = catalog.offering(provider, model)
    usd = offering.pricing.price(duration) if offering is not None else None
    return Price(provider, model, duration, usd, usd if usd is not None else highest_known(model, duration))


def highest_known(model: str, duration: int) -> float:
    """The highest published price for this model and duration at any provider; else for this duration at any
    model; else the highest published price per second times the duration. Free offerings (local) say nothing
    about what a paid one costs, so they are left out."""
    prices = [o.pricing.price(duration) for o in catalog.OFFERINGS if o.model.id == model]
    known = [p for p in prices if p]
    if not known:
        known = [p for o in catalog.OFFERINGS if (p := o.pricing.price(duration))]
    if known:
        return max(known)
    per_second = [p / d for o in catalog.OFFERINGS for d, p in o.pricing.usd.items() if p and d > 0]
    return max(per_second, default=0.0) * duration


def confirmation_due(settings: Settings, price: Price) -> bool:
    """True when VIDEOGEN_CONFIRM_ABOVE_USD is set and this generation is priced above it."""
    return settings.confirm_above_usd is not None and price.counted > settings.confirm_above_usd


def confirmation_question(price: Price) -> str:
    """The one question the user answers before a costly generation (an elicitation or a terminal prompt)."""
    return (f"Generate a {price.duration} s video with {price.model} at {price.provider} for {price.describe()}? "
            f"It is above VIDEOGEN_CONFIRM_ABOVE_USD.")


def not_confirmed() -> NotConfirmed:
    return NotConfirmed("not confirmed; nothing was spent")


def over_budget(cap: float, price: Price, spent: float) -> OverBudget:
    return OverBudget(
        f"the daily budget would be passed: ${spent:.2f} spent in the last 24 h plus {price.describe()} for "
        f"{price.model} at {price.provider} is above VIDEOGEN_DAILY_BUDGET_USD=${cap:.2f}; nothing was sent, so "
        "wait for older tasks to leave the 24 h window or raise the cap"
    )


def confirmation_needed(settings: Settings, price: Price, fix: str) -> NotConfirmed:
    """The refusal when a due confirmation cannot be asked for (`fix`: how the caller can give it)."""
    return NotConfirmed(
        f"{price.model} at {price.provider} for {price.duration} s costs {price.describe()}, above "
        f"VIDEOGEN_CONFIRM_ABOVE_USD=${settings.confirm_above_usd:.2f}, and {fix}; nothing was sent"
    )


def failover_not_confirmed(price: Price, confirmed: float) -> NotConfirmed:
    return NotConfirmed(
        f"failover would move this task to {price.provider} at {price.describe()}, more than the ${confirmed:.2f} "
        f"confirmed, so nothing was sent to {price.provider}; call again naming a provider or confirm the new price"
    )


def window_start(now: datetime | None = None) -> str:
    """The created_at stamp from which tasks count against the daily budget (same format as now_iso)."""
    start = (now or datetime.now(UTC)) - BUDGET_WINDOW
    return start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
