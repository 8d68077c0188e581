"""The console's sign-in, its home page, and installing into the helpdesk."""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from flask import flash, redirect, request, session, url_for
from werkzeug.wrappers import Response

from adapter.console import auth, links
from adapter.console.installation import install, load_installation
from adapter.console.manifest import load_manifest
from adapter.errors import BadRequest, RequestError
from adapter.web.console.support import blueprint, done, page, signed_in, start_session, svc

logger = logging.getLogger(__name__)

def _safe_next(target: str | None) -> str:
    """Only a path on this console: never an absolute URL (no open redirect)."""
    if target and target.startswith("/admin") and not urlparse(target).netloc and not target.startswith("//"):
        return target
    return url_for("console.home")


@blueprint.get("/")
def home() -> Response:
    if load_installation(svc()) is None:
        return redirect(url_for("console.install_page"))
    return redirect(url_for("console.numbers"))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    services = svc()
    settings = services.settings
    enabled = auth.password_login_enabled(settings)
    if request.method == "GET":
        if signed_in():
            return redirect(_safe_next(request.args.get("next")))
        return page("login.html", enabled=enabled, next=request.args.get("next", ""))
    throttle = auth.Throttle(services.store, services.clock)
    client = request.remote_addr or "unknown"
    wait = throttle.wait_seconds(client)
    if wait:
        return page("login.html", 429, enabled=enabled, next=request.form.get("next", ""),
                    error=f"Too many failed sign-ins. Wait {wait} seconds, then try again.")  # fmt: skip
    username, password = request.form.get("username", ""), request.form.get("password", "")
    if not enabled or not auth.check_password(settings, username, password):
        throttle.record_failure(client)
        logger.warning("failed console sign-in from %s", client)
        error = "Wrong name or password." if enabled else "Password sign-in is off: ADMIN_PASSWORD is not set."
        return page("login.html", 401, enabled=enabled, next=request.form.get("next", ""), error=error)
    throttle.reset(client)
    start_session(settings.admin_username)
    logger.info("console sign-in by %s", settings.admin_username)
    return redirect(_safe_next(request.form.get("next")))


@blueprint.get("/login/link")
def signed_link() -> Response | tuple[str, int]:
    services = svc()
    args = {k: str(v) for k, v in request.args.items()}
    try:
        secret = auth.signing_secret(services.settings)
        link = links.verify_link(secret, args, scope="console", now=services.clock.now())
    except links.LinkRefused as exc:
        return page("error.html", 403, status=403, title="This sign-in link cannot be used", message=str(exc),
                    hint="Ask for a new link, or sign in with the admin password.")  # fmt: skip
    start_session(f"{link.subject} (signed link)")
    logger.info("console sign-in by signed link for %s", link.subject)
    return redirect(url_for("console.home"))


@blueprint.post("/logout")
def logout() -> Response:
    session.clear()
    flash("You are signed out.", "ok")
    return redirect(url_for("console.login"))


@blueprint.route("/install", methods=["GET", "POST"])
def install_page() -> Response | tuple[str, int]:
    services = svc()
    settings = services.settings
    manifest = load_manifest(settings.public_base_url or "<PUBLIC_BASE_URL>")
    installation = load_installation(services)
    form = {"helpdesk_url": settings.helpdesk_base_url, "account_id": "", "token": ""}
    if installation:
        form.update(helpdesk_url=installation.helpdesk_url, account_id=str(installation.account_id))
    if request.method == "POST":
        form.update({k: request.form.get(k, "").strip() for k in ("helpdesk_url", "account_id")})
        try:
            if not form["account_id"].isdigit():
                raise BadRequest("the account id is the number in the helpdesk's URL: /app/accounts/<id>/…")
            install(services, form["helpdesk_url"], int(form["account_id"]), request.form.get("token", ""))
        except RequestError as exc:
            return page("install.html", exc.http_status, manifest=manifest, installation=installation, form=form,
                        error=exc.message)  # fmt: skip
        return done("Installed: the WhatsApp Dashboard App is in the helpdesk's conversation view.",
                    "console.install_page")  # fmt: skip
    return page("install.html", manifest=manifest, installation=installation, form=form)
