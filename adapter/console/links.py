"""Signed sign-in links: HMAC-SHA256 with the session secret over scope, subject and expiry.

A link is `?scope=console|app&sub=<who>&exp=<unix time>&sig=<hex>` where
sig = hex(HMAC-SHA256(SESSION_SECRET, "<scope>\\n<sub>\\n<exp>")), so the helpdesk side (or the
`flask console link` command) can make one without calling the adapter. `console` links sign an
admin in and may live at most a day; `app` links authenticate the Dashboard App for every agent of the
account it is installed in and may live at most 400 days.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

SCOPES = {"console": 24 * 3600, "app": 400 * 24 * 3600}  # scope -> longest lifetime in seconds


class LinkRefused(Exception):
    """The link is malformed, forged or expired; the message says which, in plain words."""


@dataclass(frozen=True)
class SignedLink:
    scope: str
    subject: str
    expires_at: int

    def query(self, secret: str) -> str:
        return urlencode(
            {"scope": self.scope, "sub": self.subject, "exp": str(self.expires_at), "sig": signature(secret, self)}
        )


def signature(secret: str, link: SignedLink) -> str:
    message = f"{link.scope}\n{link.subject}\n{link.expires_at}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def make_link(secret: str, scope: str, subject: str, *, now: float, lifetime_seconds: int) -> SignedLink:
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    if not 0 < lifetime_seconds <= SCOPES[scope]:
        raise ValueError(f"a {scope} link may live at most {SCOPES[scope] // 3600} hours")
    if not secret:
        raise ValueError("no signing secret: set SESSION_SECRET")
    return SignedLink(scope, subject, int(now) + lifetime_seconds)


def verify_link(secret: str, args: dict[str, str], *, scope: str, now: float) -> SignedLink:
    """The link in `args` if it is genuine, of `scope` and not expired; LinkRefused otherwise."""
    if not secret:
        raise LinkRefused("signed links are disabled: the adapter has no SESSION_SECRET")
    given_scope, subject, expiry, sig = (args.get(k, "") for k in ("scope", "sub", "exp", "sig"))
    if not (given_scope and subject and expiry.isdigit() and sig):
        raise LinkRefused("the link is incomplete: it needs scope, sub, exp and sig")
    link = SignedLink(given_scope, subject, int(expiry))
    if not hmac.compare_digest(sig.encode(), signature(secret, link).encode()):
        raise LinkRefused("the link's signature is wrong (it was changed, or signed with another secret)")
    if given_scope != scope:
        raise LinkRefused(f"this link is for the {given_scope}, not the {scope}")
    if link.expires_at <= now:
        raise LinkRefused("the link has expired; ask for a new one")
    if link.expires_at - now > SCOPES[scope]:
        raise LinkRefused(f"the link lives too long: a {scope} link may live at most {SCOPES[scope] // 3600} hours")
    return link
