"""Installing the plugin into the helpdesk: check the admin token, create the Dashboard App, remember it.

The installation is one Redis hash (keys.INSTALLATION): the helpdesk URL and account, the administrator
token the console uses to create inboxes, and the Dashboard App it created. Installing again updates the
same Dashboard App instead of adding a second one.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from adapter.console import links
from adapter.console.auth import signing_secret
from adapter.console.manifest import Manifest, load_manifest
from adapter.errors import BadRequest, Conflict, ExternalApiError, Forbidden, HelpdeskApiError
from adapter.helpdesk.admin_client import HelpdeskAdminClient
from adapter.services import Services
from adapter.store import keys
from adapter.store.replies import hash_fields, text_hash
from adapter.store.secrets import PREFIX

logger = logging.getLogger(__name__)

APP_LINK_LIFETIME_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class Installation:
    helpdesk_url: str
    account_id: int
    api_token: str = dataclasses.field(repr=False)
    installed_by: str
    dashboard_app_id: int | None
    dashboard_app_expires_at: int
    version: str
    installed_at: float

    def to_hash(self) -> dict[str, str]:
        return {k: "" if v is None else str(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_hash(cls, data: dict[str, str]) -> Installation:
        app_id = data.get("dashboard_app_id") or ""
        return cls(
            helpdesk_url=data["helpdesk_url"],
            account_id=int(data["account_id"]),
            api_token=data.get("api_token", ""),
            installed_by=data.get("installed_by", ""),
            dashboard_app_id=int(app_id) if app_id.isdigit() else None,
            dashboard_app_expires_at=int(float(data.get("dashboard_app_expires_at") or 0)),
            version=data.get("version", ""),
            installed_at=float(data.get("installed_at") or 0),
        )


NO_KEY = "set ENCRYPTION_KEY first: the console stores access tokens only encrypted"


def seal(services: Services, value: str) -> str:
    """Encrypt a token for Redis with the channels' SecretBox (ENCRYPTION_KEY); refused without a key."""
    box = services.channels.box
    if box is None:
        raise Conflict(NO_KEY)
    return box.seal(value)


def unseal(services: Services, stored: str) -> str:
    box = services.channels.box
    if box is None:
        return "" if stored.startswith(PREFIX) else stored
    return box.open(stored)


def load_installation(services: Services) -> Installation | None:
    data = text_hash(services.store.hgetall(keys.INSTALLATION))
    if not data:
        return None
    data["api_token"] = unseal(services, data.get("api_token", ""))
    return Installation.from_hash(data)


def admin_client(services: Services, installation: Installation) -> HelpdeskAdminClient:
    timeout, media_max = services.settings.http_timeout_seconds, services.settings.media_max_bytes
    return HelpdeskAdminClient(installation.helpdesk_url, timeout=timeout, media_max_bytes=media_max)


def check_admin_token(client: HelpdeskAdminClient, account_id: int, token: str) -> dict[str, Any]:
    """The token's profile if it belongs to an administrator of the account; Forbidden otherwise."""
    try:
        profile = client.get_profile(token)
    except HelpdeskApiError as exc:
        if exc.http_status == 401:
            raise Forbidden("the helpdesk refused the access token: copy it again from Profile settings") from None
        raise
    accounts = [a for a in profile.get("accounts") or [] if isinstance(a, dict)]
    membership = next((a for a in accounts if str(a.get("id")) == str(account_id)), None)
    if membership is None:
        raise Forbidden(f"this token's user is not a member of helpdesk account {account_id}")
    if membership.get("role") != "administrator":
        raise Forbidden(f"this token's user is an {membership.get('role') or 'agent'} in account {account_id}; "
                        "creating inboxes needs an administrator's token")  # fmt: skip
    return profile


def dashboard_app_url(services: Services, manifest: Manifest, account_id: int) -> tuple[str, int]:
    """The Dashboard App URL with a signed `app` link for the account's agents, and when it expires."""
    link = links.make_link(
        signing_secret(services.settings), "app", f"account:{account_id}",
        now=services.clock.now(), lifetime_seconds=APP_LINK_LIFETIME_SECONDS,
    )  # fmt: skip
    return f"{manifest.dashboard_app_url}?{link.query(signing_secret(services.settings))}", link.expires_at


def install(services: Services, helpdesk_url: str, account_id: int, token: str) -> Installation:
    """Check the token, create (or update) the Dashboard App from the manifest, record the installation."""
    settings = services.settings
    helpdesk_url = helpdesk_url.strip().rstrip("/")
    if not helpdesk_url.startswith(("http://", "https://")):
        raise BadRequest("the helpdesk URL must start with https:// (or http://)")
    if settings.helpdesk_base_url and helpdesk_url != settings.helpdesk_base_url.rstrip("/"):
        raise BadRequest(
            f"this adapter delivers every message to HELPDESK_BASE_URL ({settings.helpdesk_base_url}); "
            "install into that helpdesk, or change HELPDESK_BASE_URL and restart"
        )
    if not settings.public_base_url:
        raise BadRequest("set PUBLIC_BASE_URL first: the helpdesk needs this adapter's public address")
    if not signing_secret(settings):
        raise BadRequest("set SESSION_SECRET first: the Dashboard App link is signed with it")
    if services.channels.box is None:
        raise Conflict(NO_KEY)
    if account_id < 1 or not token.strip():
        raise BadRequest("give the helpdesk account id and an administrator's access token")
    manifest = load_manifest(settings.public_base_url)
    installation = load_installation(services)
    draft = Installation(helpdesk_url, account_id, token.strip(), "", None, 0, manifest.version, services.clock.now())
    client = admin_client(services, draft)
    profile = check_admin_token(client, account_id, draft.api_token)
    url, expires_at = dashboard_app_url(services, manifest, account_id)
    app_id = _save_dashboard_app(client, draft, manifest.dashboard_app_title, url, installation)
    done = dataclasses.replace(
        draft,
        installed_by=str(profile.get("email") or profile.get("name") or ""),
        dashboard_app_id=app_id,
        dashboard_app_expires_at=expires_at,
    )
    pipe = services.store.pipeline(transaction=True)
    pipe.delete(keys.INSTALLATION)
    pipe.hset(keys.INSTALLATION, mapping=hash_fields({**done.to_hash(), "api_token": seal(services, done.api_token)}))
    pipe.execute()
    logger.info("installed into helpdesk account %s (dashboard app %s)", account_id, app_id)
    return done


def _save_dashboard_app(
    client: HelpdeskAdminClient, draft: Installation, title: str, url: str, previous: Installation | None
) -> int:
    account, token = draft.account_id, draft.api_token
    known = previous.dashboard_app_id if previous and previous.account_id == account else None
    if known is None:  # the record may be gone while the app still exists: never add a second one
        base = url.split("?", 1)[0]
        for app in client.list_dashboard_apps(account, token):
            frames = [c for c in app.get("content") or [] if isinstance(c, dict)]
            if any(str(c.get("url", "")).split("?", 1)[0] == base for c in frames):
                known = int(app["id"])
                break
    if known is not None:
        try:
            return int(client.update_dashboard_app(account, token, known, title, url)["id"])
        except ExternalApiError as exc:
            if getattr(exc, "http_status", None) != 404:
                raise
    return int(client.create_dashboard_app(account, token, title, url)["id"])
