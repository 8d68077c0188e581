"""The Dashboard App at /app: a tab in the helpdesk's conversation view (chatwoot.md §5).

The helpdesk gives the frame an unauthenticated postMessage context, so the app authenticates itself:
the signed `app` link the install step put in its URL (sent back as X-App-Link), or a console session
with its CSRF token. Only the conversation id is taken from the context; everything else is read back
from the helpdesk API (adapter/console/dashboard.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, Response, jsonify, render_template, request, session

from adapter.console import auth, dashboard, links
from adapter.console.installation import Installation, load_installation
from adapter.errors import BadRequest, Forbidden, Unauthorized
from adapter.web.common import json_body, services
from adapter.web.console.support import CSRF_HEADER, csrf_token

blueprint = Blueprint("dashboard_app", __name__, url_prefix="/app", template_folder="templates")

LINK_HEADER = "X-App-Link"


def _installation() -> Installation:
    installation = load_installation(services())
    if installation is None:
        raise Forbidden("the WhatsApp plugin is not installed in a helpdesk yet")
    return installation


def _link_ok(args: dict[str, str], installation: Installation) -> bool:
    svc = services()
    try:
        link = links.verify_link(auth.signing_secret(svc.settings), args, scope="app", now=svc.clock.now())
    except links.LinkRefused as exc:
        raise Forbidden(f"this Dashboard App link cannot be used: {exc}") from None
    if link.subject != f"account:{installation.account_id}":
        raise Forbidden("this Dashboard App link was made for another helpdesk account; install the plugin again")
    return True


def _authorize(installation: Installation) -> str:
    """Who is asking: "link" (the signed app link) or the console user; refuses everyone else."""
    header = request.headers.get(LINK_HEADER, "")
    if header:
        _link_ok(dict(parse_qsl(header)), installation)
        return "link"
    if session.get("user"):
        if not auth.csrf_matches(session.get("csrf"), request.headers.get(CSRF_HEADER)):
            raise BadRequest("the console session's CSRF token is missing or wrong; reload the tab")
        return str(session["user"])
    raise Unauthorized("open this tab from the helpdesk (its link is signed) or sign in to the console")


@blueprint.after_request
def headers(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "no-referrer"  # the signed link is in this page's URL
    installation = load_installation(services())
    ancestors = f"'self' {installation.helpdesk_url}" if installation else "'self'"
    response.headers["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


@blueprint.get("")
def app_page() -> tuple[str, int]:
    installation = _installation()
    args = {k: str(v) for k, v in request.args.items()}
    link = ""
    if "sig" in args:
        _link_ok(args, installation)
        link = urlencode([(k, args[k]) for k in ("scope", "sub", "exp", "sig") if k in args])
    elif not session.get("user"):
        raise Forbidden("open this tab from the helpdesk's conversation view, or sign in to the console first")
    return render_template("console/app.html", link=link, csrf=csrf_token() if session.get("user") else ""), 200


def _conversation_view(installation: Installation, body: Any) -> tuple[dashboard.OpenConversation, dict[str, Any]]:
    svc = services()
    conversation = dashboard.resolve(svc, installation, body.get("conversation_id") if isinstance(body, dict) else None)
    channel = conversation.channel
    view = {
        "conversation_id": conversation.conversation_id,
        "contact_name": conversation.contact_name,
        "number": channel.display_phone_number or channel.phone_number_id,
        "window": dashboard.window(svc, conversation),
        "templates": dashboard.sendable_templates(svc, channel),
    }
    return conversation, view


@blueprint.post("/api/conversation")
def conversation_api() -> Response:
    installation = _installation()
    _authorize(installation)
    conversation, view = _conversation_view(installation, json_body())
    return jsonify({**view, "costs": dashboard.message_costs(services(), installation, conversation)})


@blueprint.post("/api/send")
def send_api() -> Response:
    installation = _installation()
    who = _authorize(installation)
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("the body must be an object")
    conversation, _ = _conversation_view(installation, body)
    agent = str(body.get("agent") or "")[:80]  # from the untrusted context: a label for the log only
    sent = dashboard.send_template(services(), installation, conversation, str(body.get("name") or ""),
                                   str(body.get("language") or ""), body.get("values") or {},
                                   f"{agent} via {who}" if agent else who)  # fmt: skip
    return jsonify(sent)
