"""Confirmation before a costly generation, through elicitation: the SDK's Resolve/Elicit markers ask with
`elicitation/create` on 2025-11-25 sessions and with an InputRequiredResult round trip on 2026-07-28, before the
tool body runs (so before any task exists). Whether one is due, and at what price, the service decides."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, ElicitationResult, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, ValidationError

from videogen_mcp.errors import InvalidInput
from videogen_mcp.tasks import money
from videogen_mcp.tasks.requests import GenerateRequest

NO_ELICITATION = ("this client cannot ask you (it does not support elicitation): use a client that does, or raise "
                  "VIDEOGEN_CONFIRM_ABOVE_USD")


class Confirm(BaseModel):
    """The one-field form the user answers."""

    confirm: bool = Field(title="Generate and pay for this video", description="Yes to start the paid generation.")


def quote(ctx: Context, provider: str | None, model: str | None, duration: int, guidance_scale: float | None = None,
          end_image: str | None = None, sound: bool | None = None) -> money.Price | None:
    """The price at the provider the call goes to first; None when the arguments cannot be served (the tool
    body then refuses them with its own sentence)."""
    service = ctx.mcp_server.state.service  # type: ignore[attr-defined]
    if service is None:
        return None
    try:
        # image and prompt do not change the price (the tool body checks them)
        return service.quote(GenerateRequest("", "", provider, model, duration, None, guidance_scale, end_image, sound))
    except (InvalidInput, ValidationError):
        return None


def ask(ctx: Context, price: Annotated[money.Price | None, Resolve(quote)]) -> Confirm | Elicit[Confirm]:
    """Ask the user when the service says a confirmation is due; otherwise confirm at once."""
    service = ctx.mcp_server.state.service  # type: ignore[attr-defined]
    if price is None or service is None or not service.confirmation_due(price):
        return Confirm(confirm=True)
    if not _can_elicit(ctx):
        raise ToolError(str(money.confirmation_needed(service.settings, price, NO_ELICITATION)))
    return Elicit(money.confirmation_question(price), Confirm)


def confirmed_usd(answer: ElicitationResult[Confirm], price: money.Price | None) -> float | None:
    """The price the user confirmed (None when none was due); a decline or a cancel refuses the call."""
    if not isinstance(answer, AcceptedElicitation) or not answer.data.confirm:
        raise ToolError(str(money.not_confirmed()))
    return price.counted if price is not None else None


def _can_elicit(ctx: Context) -> bool:
    """Whether the client declared form elicitation (a bare `elicitation: {}` counts, as in the SDK)."""
    capabilities: Any = ctx.client_capabilities
    elicitation = getattr(capabilities, "elicitation", None)
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)
