"""Connect WhatsApp: Sign in with Meta (Embedded Signup) and the manual path (ids and a system-user token)."""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response

from adapter.console import connect, signup, verification
from adapter.console.installation import Installation
from adapter.errors import BadRequest, ExternalApiError, RequestError
from adapter.web.common import json_body
from adapter.web.console.support import blueprint, done, form_int, installation_or_none, page, session_owner, svc

logger = logging.getLogger(__name__)


def _installation() -> Installation:
    installation = installation_or_none()
    if installation is None:
        raise BadRequest("Install the plugin into the helpdesk first (Settings → Helpdesk)")
    return installation


def _bots(installation: Installation) -> tuple[list[dict[str, Any]], str]:
    try:
        return connect.agent_bots(svc(), installation), ""
    except ExternalApiError as exc:
        return [], f"The helpdesk's agent bots could not be read ({exc.message}); the number will have none."


def _connect_page(status: int = 200, **extra: Any) -> tuple[str, int]:
    services = svc()
    settings = services.settings
    installation = _installation()
    bots, bots_error = _bots(installation)
    page_origin = request.host_url.rstrip("/")
    return page(
        "connect.html",
        status,
        bots=bots,
        bots_error=bots_error,
        signup_ready=bool(settings.meta_app_id and settings.meta_config_id and settings.meta_app_secret),
        signup_id=signup.start(services, session_owner()),
        sdk_url=settings.meta_sdk_url,
        app_id=settings.meta_app_id,
        config_id=settings.meta_config_id,
        graph_version=settings.graph_api_version,
        extra_origins=signup.extra_message_origins(settings.meta_sdk_url, page_origin),
        form=extra.pop("form", {}),
        **extra,
    )


@blueprint.get("/connect")
def connect_page() -> Response | tuple[str, int]:
    if installation_or_none() is None:
        flash("Install the plugin into the helpdesk first: the console creates an inbox for each number.", "error")
        return redirect(url_for("console.install_page"))
    return _connect_page()


@blueprint.post("/connect/manual")
def connect_manual() -> Response | tuple[str, int]:
    form = {k: request.form.get(k, "").strip() for k in ("waba_id", "phone_number_id")}
    try:
        channel = connect.connect_number(
            svc(), _installation(), waba_id=form["waba_id"], phone_number_id=form["phone_number_id"],
            token=request.form.get("token", "").strip(), agent_bot_id=form_int("agent_bot_id"),
        )  # fmt: skip
    except RequestError as exc:
        return _connect_page(exc.http_status, manual_error=exc.message, form=form)
    return done(f"Connected {channel.display_phone_number or channel.phone_number_id}.", "console.number",
                phone_number_id=channel.phone_number_id)  # fmt: skip


PIN_SHOWN_ONCE = (
    "Registered with WhatsApp. Its two-step verification PIN is {pin}: write it down now, it is shown only "
    "once, and WhatsApp asks for it whenever the number is registered again."
)


def _signup_answer(state: signup.SignupState, signup_id: str) -> Response:
    body: dict[str, Any] = state.as_json()
    if state.state == "connected":
        first, pin = signup.first_news_of_registration(svc(), signup_id)
        if first:
            flash(PIN_SHOWN_ONCE.format(pin=pin) if pin else "Registered with WhatsApp with the PIN you chose.", "ok")
        body["redirect"] = url_for("console.number", phone_number_id=state.phone_number_id)
    elif state.state == "needs_registration":
        flash(state.message, "error")
        body["redirect"] = url_for("console.number", phone_number_id=state.phone_number_id)
    elif state.state == "needs_number":
        body["redirect"] = url_for("console.signup_number", signup_id=signup_id)
    return jsonify(body)


@blueprint.post("/connect/signup/<signup_id>/code")
def signup_code(signup_id: str) -> Response:
    body = json_body()
    code = str(body.get("code") or "") if isinstance(body, dict) else ""
    return _signup_answer(signup.record_code(svc(), _installation(), signup_id, session_owner(), code), signup_id)


@blueprint.post("/connect/signup/<signup_id>/session")
def signup_session(signup_id: str) -> Response:
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("the body must be an object with the signup message")
    bot = body.get("agent_bot_id")
    if bot not in (None, "") and not str(bot).isdigit():
        raise BadRequest("agent_bot_id must be a number")
    pin = body.get("pin")
    if pin is not None and not isinstance(pin, str):
        raise BadRequest("pin must be a string of 6 digits")
    state = signup.record_session(svc(), _installation(), signup_id, session_owner(), body.get("message"),
                                  int(bot) if bot not in (None, "") else None, pin or "")  # fmt: skip
    return _signup_answer(state, signup_id)


@blueprint.get("/connect/signup/<signup_id>")
def signup_status(signup_id: str) -> Response:
    return _signup_answer(signup.status(svc(), signup_id, session_owner()), signup_id)


@blueprint.route("/connect/signup/<signup_id>/number", methods=["GET", "POST"])
def signup_number(signup_id: str) -> Response | tuple[str, int]:
    services = svc()
    waba_id, token, bot = signup.waba_in_progress(services, signup_id, session_owner())
    form = {k: request.form.get(k, "").strip() for k in ("phone", "display_name")}
    if request.method == "GET":
        return page("signup_number.html", waba_id=waba_id, signup_id=signup_id, form=form)
    try:
        pnid = verification.add_number(services, waba_id, token, form["phone"], form["display_name"])
        channel = connect.connect_number(services, _installation(), waba_id=waba_id, phone_number_id=pnid,
                                         token=token, agent_bot_id=bot)  # fmt: skip
    except RequestError as exc:
        return page("signup_number.html", exc.http_status, waba_id=waba_id, signup_id=signup_id, form=form,
                    error=exc.message)  # fmt: skip
    signup.done_with_number(services, signup_id, channel.phone_number_id)
    return done("The number is connected. Verify it now: WhatsApp sends a code by SMS or voice call.",
                "console.number", phone_number_id=channel.phone_number_id)  # fmt: skip
