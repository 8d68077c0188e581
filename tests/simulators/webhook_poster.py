"""The simulators' webhook sender: a requests.Session per thread, so each thread keeps its connections.

The simulators stand for Meta and the helpdesk, which do not go through this machine's proxies:
`trust_env` is off, so a test that sets `HTTPS_PROXY` for the adapter does not send the simulators'
webhooks through it too. Redirects are answers, not followed, as Meta and Chatwoot treat them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import requests


class WebhookError(Exception):
    """The POST got no HTTP answer."""


class WebhookTimeout(WebhookError):
    """Connecting or waiting for the answer took longer than the timeout."""


class WebhookConnectionFailed(WebhookError):
    """The receiver could not be reached, or dropped the connection before answering."""


class WebhookPoster:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
        return session

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        """POST `body` to `url`; the answer's status and reason."""
        try:
            response = self._session().post(url, data=body, headers=dict(headers), timeout=self.timeout,
                                            allow_redirects=False)  # fmt: skip
        except requests.Timeout:
            raise WebhookTimeout(f"no answer from {url} within {self.timeout:g}s") from None
        except requests.ConnectionError as exc:
            raise WebhookConnectionFailed(str(exc) or type(exc).__name__) from None
        except requests.RequestException as exc:
            raise WebhookError(f"{type(exc).__name__}: {exc}") from None
        return response.status_code, response.reason or ""

    def close(self) -> None:
        """Close the calling thread's connections."""
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            del self._local.session
