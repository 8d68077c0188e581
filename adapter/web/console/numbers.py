"""Integrations → WhatsApp: the connected numbers, each one's health and traffic, verification, display name,
default agent, and Disconnect."""

from __future__ import annotations

from typing import Any

from flask import request
from markupsafe import Markup
from werkzeug.wrappers import Response

from adapter import admin_actions
from adapter.console import charts, connect, disconnect, health, troubleshooting, verification
from adapter.console.onboarding_errors import OnboardingFailed
from adapter.errors import ExternalApiError, RequestError
from adapter.meta.events import FREE_TYPES
from adapter.monitoring import number_health, traffic
from adapter.monitoring.costs import CostTotals
from adapter.services import Services
from adapter.store.channels import Channel
from adapter.web.console.support import blueprint, done, form_int, installation_or_none, page, svc


def _summary(services: Services, channel: Channel, backlog: dict[str, dict[str, int]]) -> dict[str, Any]:
    pnid = channel.phone_number_id
    hours = traffic.last_day(services.store, pnid, services.clock.now())
    label = channel.display_phone_number or pnid
    return {
        "channel": channel,
        "health": number_health.read_health(services.store, pnid),
        "waba_event": number_health.waba_event(services.store, channel.waba_id),
        "last": traffic.last_traffic(services.store, pnid),
        "backlog": backlog.get(pnid, {"waiting": 0, "retrying": 0}),
        "failures": traffic.recent_failures(services.store, pnid),
        "dead": troubleshooting.dead_letters_of(services, pnid)[:10],
        "chart": Markup(charts.traffic_svg(hours, title=f"Messages of {label} in the last 24 hours")),
        "colours": charts.failure_colours(hours),
        "totals": {"in": sum(h.inbound for h in hours), "out": sum(h.outbound for h in hours),
                   "failed": sum(h.failed for h in hours)},  # fmt: skip
        "name_warning": number_health.name_warning(services.store, pnid),
    }


@blueprint.get("/numbers")
def numbers() -> tuple[str, int]:
    services = svc()
    backlog = troubleshooting.backlog_by_number(services)
    rows = [_summary(services, c, backlog) for c in services.channels.all()]
    return page("numbers.html", rows=rows, installation=installation_or_none(), queue=services.queue.backlog(),
                now=services.clock.now())  # fmt: skip


def cost_rows(day: CostTotals, month: CostTotals) -> list[dict[str, Any]]:
    """The "What messages cost" card's rows: billable messages by category, then free ones by type (Meta's two free
    types always shown), each with its last 24 hours and last 30 days; the two totals head their groups."""
    rows: list[dict[str, Any]] = [{"label": "Billable", "total": True, "day": day.billable_count,
                                   "month": month.billable_count}]  # fmt: skip
    for category in sorted(set(day.billable) | set(month.billable)):
        rows.append({"label": category.replace("_", " "), "name": category, "day": day.billable.get(category, 0),
                     "month": month.billable.get(category, 0)})  # fmt: skip
    rows.append({"label": "Free", "total": True, "day": day.free_count, "month": month.free_count})
    for kind in sorted(set(FREE_TYPES) | set(day.free) | set(month.free)):
        rows.append({"label": kind.removeprefix("free_").replace("_", " "), "name": kind,
                     "day": day.free.get(kind, 0), "month": month.free.get(kind, 0)})  # fmt: skip
    return rows


def _number_page(phone_number_id: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    services = svc()
    channel = admin_actions.require_channel(services, phone_number_id)
    installation = installation_or_none()
    bots: list[dict[str, Any]] = []
    if installation is not None:
        try:
            bots = connect.agent_bots(services, installation)
        except ExternalApiError:
            bots = []
    summary = _summary(services, channel, troubleshooting.backlog_by_number(services))
    day, month = services.costs.totals(phone_number_id, 1), services.costs.totals(phone_number_id, 30)
    # The 30 days hold the 24 hours: with none in them there is nothing to show.
    costs = {"rows": cost_rows(day, month), "any": bool(month.billable_count or month.free_count)}
    return page("number.html", status, row=summary, bots=bots, now=services.clock.now(), costs=costs,
                sms_hint=verification.HINT_AFTER_SMS, **extra)  # fmt: skip


@blueprint.get("/numbers/<phone_number_id>")
def number(phone_number_id: str) -> tuple[str, int]:
    return _number_page(phone_number_id)


@blueprint.post("/numbers/<phone_number_id>/refresh")
def refresh_number(phone_number_id: str) -> Response:
    services = svc()
    result = health.refresh(services, admin_actions.require_channel(services, phone_number_id))
    message = "Refreshed from Meta." if not result.refresh_error else f"Refresh failed: {result.refresh_error}"
    return done(message, "console.number", phone_number_id=phone_number_id)


def _verification_step(phone_number_id: str, step: str) -> Response | tuple[str, int]:
    services = svc()
    channel = admin_actions.require_channel(services, phone_number_id)
    try:
        if step == "request":
            message = verification.request_code(services, channel, request.form.get("method", "SMS"))
        elif step == "verify":
            message = verification.verify_code(services, channel, request.form.get("code", ""))
        else:
            message = verification.register(services, channel, request.form.get("pin", ""))
    except OnboardingFailed as exc:
        return _number_page(phone_number_id, 400, problem=exc.problem, step=step)
    except RequestError as exc:
        return _number_page(phone_number_id, exc.http_status, step_error=exc.message, step=step)
    return done(message, "console.number", phone_number_id=phone_number_id)


@blueprint.post("/numbers/<phone_number_id>/request-code")
def request_code(phone_number_id: str) -> Response | tuple[str, int]:
    return _verification_step(phone_number_id, "request")


@blueprint.post("/numbers/<phone_number_id>/verify-code")
def verify_code(phone_number_id: str) -> Response | tuple[str, int]:
    return _verification_step(phone_number_id, "verify")


@blueprint.post("/numbers/<phone_number_id>/register")
def register_number(phone_number_id: str) -> Response | tuple[str, int]:
    return _verification_step(phone_number_id, "register")


@blueprint.post("/numbers/<phone_number_id>/agent")
def default_agent(phone_number_id: str) -> Response | tuple[str, int]:
    services = svc()
    channel = admin_actions.require_channel(services, phone_number_id)
    installation = installation_or_none()
    if installation is None:
        return _number_page(phone_number_id, 400, agent_error="Install the plugin into the helpdesk first.")
    try:
        connect.set_default_agent(services, installation, channel, form_int("agent_bot_id"))
    except (RequestError, ExternalApiError) as exc:
        return _number_page(phone_number_id, 400, agent_error=exc.message)
    return done("Default agent saved.", "console.number", phone_number_id=phone_number_id)


@blueprint.get("/numbers/<phone_number_id>/disconnect")
def disconnect_confirm(phone_number_id: str) -> tuple[str, int]:
    channel = admin_actions.require_channel(svc(), phone_number_id)
    return page("disconnect.html", channel=channel, steps=disconnect.deregister_steps(phone_number_id))


@blueprint.post("/numbers/<phone_number_id>/disconnect")
def disconnect_number(phone_number_id: str) -> tuple[str, int]:
    result = disconnect.disconnect(svc(), phone_number_id)
    return page("disconnected.html", result=result, steps=disconnect.deregister_steps(phone_number_id))
