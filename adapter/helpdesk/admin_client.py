"""HelpdeskAdminClient: the helpdesk's administration calls the console makes (chatwoot.md §4–5).

Profile and account membership, API inboxes, agent bots and Dashboard Apps, plus reading a conversation
and its contact for the Dashboard App. Account-scoped calls reuse HelpdeskClient's `_call`.
"""

from __future__ import annotations

from typing import Any

from adapter.errors import HelpdeskApiError
from adapter.helpdesk.client import HelpdeskClient, _error_text
from adapter.http_session import network_errors


class HelpdeskAdminClient(HelpdeskClient):
    def get_profile(self, token: str) -> dict[str, Any]:
        """GET /api/v1/profile: the token's user, with `accounts[]` (id, role)."""
        with network_errors("helpdesk"):
            response = self.session.get(
                f"{self.base_url}/api/v1/profile", headers={"api_access_token": token}, timeout=self.timeout
            )
        if response.status_code >= 400:
            raise HelpdeskApiError(http_status=response.status_code, message=_error_text(response))
        try:
            data = response.json()
        except ValueError:
            raise HelpdeskApiError(http_status=502, message="the profile answer is not JSON") from None
        if not isinstance(data, dict):
            raise HelpdeskApiError(http_status=502, message="the profile answer is not an object")
        return data

    # --- inboxes and agent bots ------------------------------------------------------------

    def create_api_inbox(self, account_id: int, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /inboxes with channel.type "api" (administrators only); the answer carries `secret`."""
        return self._call("POST", account_id, "/inboxes", token, json=body)

    def set_agent_bot(self, account_id: int, token: str, inbox_id: int, agent_bot_id: int | None) -> None:
        """POST /inboxes/{id}/set_agent_bot; None detaches the inbox's bot."""
        self._call("POST", account_id, f"/inboxes/{inbox_id}/set_agent_bot", token, json={"agent_bot": agent_bot_id})

    def list_agent_bots(self, account_id: int, token: str) -> list[dict[str, Any]]:
        """GET /agent_bots (the account's bots and the global ones)."""
        data = self._call("GET", account_id, "/agent_bots", token)
        return [bot for bot in data.get("payload", []) if isinstance(bot, dict)]

    # --- dashboard apps --------------------------------------------------------------------

    def list_dashboard_apps(self, account_id: int, token: str) -> list[dict[str, Any]]:
        """GET /dashboard_apps."""
        data = self._call("GET", account_id, "/dashboard_apps", token)
        return [app for app in data.get("payload", []) if isinstance(app, dict)]

    def create_dashboard_app(self, account_id: int, token: str, title: str, url: str) -> dict[str, Any]:
        """POST /dashboard_apps {dashboard_app: {title, content: [{type: frame, url}]}}."""
        body = {"dashboard_app": {"title": title, "content": [{"type": "frame", "url": url}]}}
        return self._call("POST", account_id, "/dashboard_apps", token, json=body)

    def update_dashboard_app(self, account_id: int, token: str, app_id: int, title: str, url: str) -> dict[str, Any]:
        """PATCH /dashboard_apps/{id}."""
        body = {"dashboard_app": {"title": title, "content": [{"type": "frame", "url": url}]}}
        return self._call("PATCH", account_id, f"/dashboard_apps/{app_id}", token, json=body)

    # --- conversations (Dashboard App) ---------------------------------------------------------

    def get_conversation(self, account_id: int, token: str, conversation_id: int) -> dict[str, Any]:
        """GET /conversations/{display_id}."""
        return self._call("GET", account_id, f"/conversations/{conversation_id}", token)

    def get_contact(self, account_id: int, token: str, contact_id: int) -> dict[str, Any]:
        """GET /contacts/{id}: `payload` with `contact_inboxes[]` ({source_id, inbox})."""
        data = self._call("GET", account_id, f"/contacts/{contact_id}", token)
        payload = data.get("payload")
        return payload if isinstance(payload, dict) else data
