"""In-memory model of the Chatwoot objects the helpdesk simulator serves.

Everything here is plain dicts guarded by ``HelpdeskState.lock`` (an RLock): the HTTP layer in
``tests/simulators/helpdesk.py`` parses requests, takes the lock and calls the mutations below, which
either raise ``ApiError`` (status + Chatwoot-like JSON body) or return the webhook events the change
fires (``Outbound``). Serializers reproduce Chatwoot's three encodings (see
/work/shared/research/chatwoot.md §1.4, §2):

- REST (``_message.json.jbuilder``): ``message_type`` integer, ``created_at`` unix int, ``status`` present;
- push data (``Message#push_event_data``, used inside ``conversation.messages``): all columns, integer type;
- webhook data (``Message#webhook_data``): ``message_type`` string, ``created_at`` ISO-8601, no ``status``,
  ``sender`` as user ``{id,name,email,type:"user"}`` / bot ``{id,name,type:"agent_bot"}`` / contact (no type).

Keys: ``conversations`` is keyed by ``(account_id, display_id)``; every other table by its integer id.
Conversation dicts carry ``id`` = display_id and ``uid`` = the global row id.
"""

from __future__ import annotations

import copy
import math
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

JsonDict = dict[str, Any]
ConversationKey = tuple[int, int]

SIGN_IN_ERROR = {"error": "You need to sign in or sign up before continuing."}
NOT_FOUND_ERROR = {"error": "Resource could not be found"}
NOT_AUTHORIZED_ERROR = {"error": "You are not authorized to do this action"}

MESSAGE_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}
MESSAGE_STATUSES = ("sent", "delivered", "read", "failed")
CONVERSATION_STATUSES = ("open", "resolved", "pending", "snoozed")
CONTENT_TYPES = (
    "text", "input_text", "input_textarea", "input_email", "input_select", "cards", "form", "article",
    "incoming_email", "input_csat", "integrations", "sticker", "voice_call",
)
IMAGE_TYPES = {"image/jpeg", "image/jpg", "image/png", "image/gif", "image/bmp", "image/webp"}
VIDEO_TYPES = {"video/ogg", "video/mp4", "video/webm", "video/quicktime"}
PHONE_RE = re.compile(r"\+[1-9]\d{1,14}")
MAX_ATTACHMENTS = 15
MAX_CONTENT_LENGTH = 150_000
MESSAGES_PER_MINUTE_LIMIT = 200
SEARCH_PAGE_SIZE = 15
MESSAGES_PAGE_SIZE = 20  # MessageFinder: the latest 20, or the 20 before `before`
MESSAGES_AFTER_LIMIT = 100
MESSAGES_BETWEEN_LIMIT = 1000
DELETED_CONTENT = "This message was deleted"  # I18n conversations.messages.deleted
# Message::TEMPLATE_PARAMS_SCHEMA: the string properties of additional_attributes.template_params.
TEMPLATE_PARAMS_STRINGS = ("name", "category", "language", "namespace")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _clone(value: Any) -> Any:
    """copy.deepcopy of JSON data, through orjson: a fraction of deepcopy's cost for the attribute dicts
    every message, contact and conversation payload copies."""
    if isinstance(value, dict) and not value:
        return {}
    try:
        return orjson.loads(orjson.dumps(value)) if isinstance(value, dict | list) else copy.deepcopy(value)
    except (TypeError, orjson.JSONEncodeError):  # not JSON data (a tuple key, an integer over 64 bits)
        return copy.deepcopy(value)



def rails_params(value: Any) -> Any:
    """Params as Rails hands them to a controller: ``NoNilParamEncoder`` (``perform_deep_munge``, on by
    default) drops the nulls of every array, at any depth (``[null, {..}]`` arrives as ``[{..}]``)."""
    if isinstance(value, dict):
        return {key: rails_params(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rails_params(item) for item in value if item is not None]
    return value


def _humanize(attribute: str) -> str:
    """ActiveSupport ``humanize`` of an error's attribute: ``template_params/namespace`` →
    ``Template params/namespace``."""
    words = attribute.replace("_", " ").strip().lower()
    return words[:1].upper() + words[1:]


def template_params_errors(template_params: Any) -> list[str]:
    """``JsonSchemaValidator`` with ``TEMPLATE_PARAMS_SCHEMA`` (json_schemer, schema order: properties, then
    required), each error as ActiveModel's full message."""
    if not isinstance(template_params, dict):
        return [f"{_humanize('template_params')} must be of type hash"]
    errors = [f"{_humanize(f'template_params/{key}')} must be of type string" for key in TEMPLATE_PARAMS_STRINGS
              if key in template_params and not isinstance(template_params[key], str)]
    if "processed_params" in template_params and not isinstance(template_params["processed_params"], dict):
        errors.append(f"{_humanize('template_params/processed_params')} must be of type hash")
    if "name" not in template_params:
        errors.append("Name is required")  # handle_required: the missing key alone is the attribute
    return errors


# ContentAttributeValidator: the keys each rich content type's items may have.
ITEM_KEYS = {
    "input_select": ("title", "value"),
    "cards": ("title", "description", "media_url", "actions"),
    "form": ("type", "placeholder", "label", "name", "options", "default", "required", "pattern", "title",
             "pattern_error"),
    "article": ("title", "description", "link"),
}  # fmt: skip
CARD_ACTION_KEYS = ("text", "type", "payload", "uri")


def content_attributes_errors(content_type: str, attributes: JsonDict) -> list[str]:
    """``ContentAttributeValidator`` for input_select, cards, form and article, each error as its full message."""
    if content_type not in ITEM_KEYS:
        return []
    items = attributes.get("items")
    if not items:
        return ["Content attributes At least one item is required."]
    if not isinstance(items, list) or any(not isinstance(item, dict) for item in items):
        return ["Content attributes Items should be a hash."]
    errors = []
    invalid = [key for item in items for key in item if key not in ITEM_KEYS[content_type]]
    if invalid:
        errors.append(f"Content attributes contains invalid keys for items : {invalid}")
    if content_type == "cards":
        if any(not item.get("actions") for item in items):
            return [*errors, "Content attributes contains items missing actions"]
        invalid = [key for item in items for action in item["actions"] if isinstance(action, dict)
                   for key in action if key not in CARD_ACTION_KEYS]  # fmt: skip
        if invalid:
            errors.append(f"Content attributes contains invalid keys for actions:  {invalid}")
    return errors


def _store_write(attributes: JsonDict, key: str, value: Any) -> None:
    """A Rails ``store`` accessor write: nothing changes when the value equals what reads back (an absent key
    reads nil), otherwise the key is set, to null too."""
    if attributes.get(key) != value:
        attributes[key] = value


class ApiError(Exception):
    """An HTTP error answer: status code plus the JSON body Chatwoot would send (None = empty body)."""

    def __init__(self, status: int, body: JsonDict | None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def not_found() -> ApiError:
    return ApiError(404, dict(NOT_FOUND_ERROR))


def record_invalid(errors: list[tuple[str, str]]) -> ApiError:
    """``RequestExceptionHandler#render_record_invalid``: 422 ``{message, attributes}``."""
    return ApiError(422, {"message": ", ".join(m for _, m in errors), "attributes": [a for a, _ in errors]})


def unprocessable(message: str) -> ApiError:
    return ApiError(422, {"error": message})


@dataclass(frozen=True)
class Actor:
    """Who an ``api_access_token`` belongs to: kind ``"user"`` or ``"agent_bot"``."""

    kind: str
    id: int


@dataclass
class Outbound:
    """One webhook Chatwoot would enqueue for an inbox (payload already includes ``event``)."""

    inbox_id: int
    event: str
    payload: JsonDict
    message_id: int | None = None


def iso8601(ts: float) -> str:
    """Rails' JSON encoding of a datetime: ``2026-06-20T10:15:03.120Z``. (time.strftime: half of
    datetime's cost, and every webhook of the end-to-end bench formats a few.)"""
    seconds = math.floor(ts)
    micros = round((ts - seconds) * 1e6)  # as datetime rounds a timestamp: to the microsecond, half to even
    if micros == 1_000_000:
        seconds, micros = seconds + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds)) + f"{micros // 1000:03d}Z"


def secure_token(length: int = 24) -> str:
    """Like Rails ``has_secure_token``: base58, 24 characters."""
    return "".join(secrets.choice(_BASE58) for _ in range(length))


def ruby_to_i(value: Any) -> int:
    """Ruby ``to_i`` as Chatwoot uses it to validate ``agent_reply_time_window``."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int | float):
        return int(value)
    match = re.match(r"\s*([+-]?\d+)", str(value))
    return int(match.group(1)) if match else 0


def blank(value: Any) -> bool:
    """Ruby's ``blank?``: nil, false, an empty or whitespace string, an empty hash or array."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or value is False or (isinstance(value, dict | list) and not value)


def to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "t", "yes", "on"}
    return bool(value)


def to_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def file_type_for(content_type: str) -> str:
    """``FileTypeHelper#file_type``: image / video / audio / file from the upload's MIME type."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in IMAGE_TYPES:
        return "image"
    if mime in VIDEO_TYPES:
        return "video"
    if "audio/" in mime:
        return "audio"
    return "file"


def webhook_content(content: str | None) -> str | None:
    """``Messages::WebhookContentNormalizer``: markdown hard breaks become newlines, trailing newlines go."""
    if content is None:
        return None
    return content.replace("\\\n", "\n").rstrip("\n")


class HelpdeskState:
    """All accounts, users, bots, inboxes, contacts, conversations and messages of one simulator."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.base_url = ""
        self.frontend_url = ""  # Chatwoot's FRONTEND_URL: the host of attachment URLs ("" = base_url)
        self.accounts: dict[int, JsonDict] = {}
        self.users: dict[int, JsonDict] = {}
        self.agent_bots: dict[int, JsonDict] = {}
        self.inboxes: dict[int, JsonDict] = {}
        self.contacts: dict[int, JsonDict] = {}
        self.contact_inboxes: dict[int, JsonDict] = {}
        self.conversations: dict[ConversationKey, JsonDict] = {}
        self.messages: dict[int, JsonDict] = {}
        self.attachments: dict[int, JsonDict] = {}
        self.blobs: dict[str, int] = {}
        self.dashboard_apps: dict[int, JsonDict] = {}
        self.tokens: dict[str, Actor] = {}
        self._ids: dict[str, int] = {}
        self._display_ids: dict[int, int] = {}

    def clear(self) -> None:
        """Forget everything (dicts are cleared in place so outside references stay valid)."""
        with self.lock:
            for table in (self.accounts, self.users, self.agent_bots, self.inboxes, self.contacts,
                          self.contact_inboxes, self.conversations, self.messages, self.attachments,
                          self.blobs, self.dashboard_apps, self.tokens, self._ids, self._display_ids):
                table.clear()

    def _next_id(self, table: str) -> int:
        self._ids[table] = self._ids.get(table, 0) + 1
        return self._ids[table]

    # ------------------------------------------------------------------ lookups and permissions
    def account(self, account_id: int) -> JsonDict:
        if account_id not in self.accounts:
            raise not_found()
        return self.accounts[account_id]

    def actor_for(self, token: str | None) -> Actor | None:
        return self.tokens.get(token) if token else None

    def can_access_account(self, actor: Actor, account_id: int) -> bool:
        if actor.kind == "user":
            return account_id in self.users[actor.id]["roles"]
        bot = self.agent_bots[actor.id]
        if bot["account_id"] == account_id:
            return True
        return any(i["account_id"] == account_id and i["agent_bot_id"] == bot["id"]
                   for i in self.inboxes.values())

    def is_admin(self, actor: Actor, account_id: int) -> bool:
        return actor.kind == "user" and self.users[actor.id]["roles"].get(account_id) == "administrator"

    def inbox(self, account_id: int, inbox_id: Any) -> JsonDict:
        inbox = self.inboxes.get(to_int(inbox_id) or 0)
        if inbox is None or inbox["account_id"] != account_id:
            raise not_found()
        return inbox

    def contact(self, account_id: int, contact_id: Any) -> JsonDict:
        contact = self.contacts.get(to_int(contact_id) or 0)
        if contact is None or contact["account_id"] != account_id:
            raise not_found()
        return contact

    def conversation(self, account_id: int, display_id: int) -> JsonDict:
        conv = self.conversations.get((account_id, display_id))
        if conv is None:
            raise not_found()
        return conv

    def agent_bot(self, account_id: int, bot_id: Any) -> JsonDict:
        bot = self.agent_bots.get(to_int(bot_id) or 0)
        if bot is None or bot["account_id"] not in (None, account_id):
            raise not_found()
        return bot

    def conversation_messages(self, conv: JsonDict) -> list[JsonDict]:
        return [self.messages[mid] for mid in conv["message_ids"]]

    # ------------------------------------------------------------------ seeding (used by the simulator API)
    def add_account(self, account_id: int, name: str) -> JsonDict:
        self.accounts[account_id] = {"id": account_id, "name": name}
        return self.accounts[account_id]

    def add_user(self, account_id: int, *, token: str, name: str, email: str, admin: bool) -> JsonDict:
        self.account(account_id)
        actor = self.tokens.get(token)
        if actor is not None and actor.kind == "user":
            user = self.users[actor.id]
        else:
            user = {"id": self._next_id("users"), "name": name, "email": email, "access_token": token,
                    "roles": {}}
            self.users[user["id"]] = user
            self.tokens[token] = Actor("user", user["id"])
        user["roles"][account_id] = "administrator" if admin else "agent"
        return user

    def add_agent_bot(self, account_id: int | None, *, name: str, token: str | None,
                      outgoing_url: str | None = None, description: str = "") -> JsonDict:
        bot: JsonDict = {"id": self._next_id("agent_bots"), "name": name, "description": description,
                         "outgoing_url": outgoing_url, "bot_type": "webhook", "bot_config": {},
                         "account_id": account_id, "access_token": token or secure_token(),
                         "secret": secure_token()}
        self.agent_bots[bot["id"]] = bot
        self.tokens[bot["access_token"]] = Actor("agent_bot", bot["id"])
        return bot

    def create_inbox(self, account_id: int, params: JsonDict) -> JsonDict:
        self.account(account_id)
        channel = params.get("channel") or {}
        if not params.get("name"):
            raise record_invalid([("name", "Name can't be blank")])
        if channel.get("type", "api") != "api":
            raise unprocessable("Invalid channel type (the simulator only offers API channels)")
        attributes = channel.get("additional_attributes") or {}
        self._validate_channel_attributes(attributes)
        now = time.time()
        inbox = {
            "id": self._next_id("inboxes"), "account_id": account_id, "name": params["name"],
            "webhook_url": channel.get("webhook_url") or "", "secret": secure_token(),
            "hmac_token": secure_token(), "inbox_identifier": secure_token(),
            "hmac_mandatory": to_bool(channel.get("hmac_mandatory", False)),
            "additional_attributes": _clone(attributes),
            "lock_to_single_conversation": to_bool(params.get("lock_to_single_conversation", False)),
            "enable_auto_assignment": to_bool(params.get("enable_auto_assignment", True)),
            "greeting_enabled": False, "greeting_message": None, "agent_bot_id": None,
            "created_at": now, "updated_at": now,
        }
        self.inboxes[inbox["id"]] = inbox
        return inbox

    @staticmethod
    def _validate_channel_attributes(attributes: Any) -> None:
        if not isinstance(attributes, dict):
            raise record_invalid([("additional_attributes", "Additional attributes is invalid")])
        window = attributes.get("agent_reply_time_window")
        if window not in (None, "") and ruby_to_i(window) <= 0:
            message = "Agent reply time window must be greater than 0"
            raise record_invalid([("agent_reply_time_window", message)])

    def update_inbox(self, account_id: int, inbox_id: int, params: JsonDict) -> JsonDict:
        inbox = self.inbox(account_id, inbox_id)
        channel = params.get("channel") or {}
        if "additional_attributes" in channel:  # update!(channel: …) replaces the whole jsonb hash
            attributes = channel["additional_attributes"] or {}
            self._validate_channel_attributes(attributes)
            inbox["additional_attributes"] = _clone(attributes)
        if "webhook_url" in channel:
            inbox["webhook_url"] = channel["webhook_url"] or ""
        if "hmac_mandatory" in channel:
            inbox["hmac_mandatory"] = to_bool(channel["hmac_mandatory"])
        if params.get("name"):
            inbox["name"] = params["name"]
        for key in ("lock_to_single_conversation", "enable_auto_assignment", "greeting_enabled"):
            if key in params:
                inbox[key] = to_bool(params[key])
        inbox["updated_at"] = time.time()
        return inbox

    # ------------------------------------------------------------------ serializers
    def account_webhook(self, account_id: int) -> JsonDict:
        return dict(self.accounts[account_id])

    def user_json(self, user: JsonDict) -> JsonDict:
        accounts = [{"id": aid, "name": self.accounts[aid]["name"], "role": role, "status": "active",
                     "availability": "online", "auto_offline": True, "active_at": None}
                    for aid, role in user["roles"].items() if aid in self.accounts]
        first = accounts[0] if accounts else {"id": None, "role": None}
        return {"id": user["id"], "name": user["name"], "display_name": user["name"], "email": user["email"],
                "available_name": user["name"], "access_token": user["access_token"],
                "account_id": first["id"], "role": first["role"], "avatar_url": "", "thumbnail": "",
                "type": "user", "confirmed": True,
                "availability_status": "online", "ui_settings": {}, "accounts": accounts}

    def bot_json(self, bot: JsonDict, *, admin: bool) -> JsonDict:
        data = {"id": bot["id"], "name": bot["name"], "description": bot["description"], "thumbnail": "",
                "outgoing_url": bot["outgoing_url"], "bot_type": bot["bot_type"],
                "bot_config": _clone(bot["bot_config"]), "account_id": bot["account_id"],
                "access_token": bot["access_token"], "system_bot": bot["account_id"] is None}
        if admin:
            data["secret"] = bot["secret"]
        return data

    def inbox_json(self, inbox: JsonDict, *, admin: bool) -> JsonDict:
        data = {
            "id": inbox["id"], "avatar_url": "", "channel_id": inbox["id"], "name": inbox["name"],
            "channel_type": "Channel::Api", "greeting_enabled": inbox["greeting_enabled"],
            "greeting_message": inbox["greeting_message"], "working_hours_enabled": False,
            "enable_email_collect": True, "csat_survey_enabled": False,
            "enable_auto_assignment": inbox["enable_auto_assignment"], "auto_assignment_config": {},
            "out_of_office_message": None, "working_hours": [], "timezone": "UTC",
            "callback_webhook_url": None, "allow_messages_after_resolved": True,
            "lock_to_single_conversation": inbox["lock_to_single_conversation"],
            "sender_name_type": "friendly",
            "business_name": None, "hmac_mandatory": inbox["hmac_mandatory"],
            "webhook_url": inbox["webhook_url"], "inbox_identifier": inbox["inbox_identifier"],
            "additional_attributes": _clone(inbox["additional_attributes"]), "provider": None,
        }
        if admin:
            data["hmac_token"] = inbox["hmac_token"]
            data["secret"] = inbox["secret"]
        return data

    def inbox_row(self, inbox: JsonDict) -> JsonDict:
        """``json.inbox @contact_inbox.inbox``: the raw model attributes, not the inbox partial."""
        return {"id": inbox["id"], "channel_id": inbox["id"], "account_id": inbox["account_id"],
                "name": inbox["name"], "created_at": iso8601(inbox["created_at"]),
                "updated_at": iso8601(inbox["updated_at"]), "channel_type": "Channel::Api",
                "enable_auto_assignment": inbox["enable_auto_assignment"],
                "greeting_enabled": inbox["greeting_enabled"], "greeting_message": inbox["greeting_message"],
                "lock_to_single_conversation": inbox["lock_to_single_conversation"]}

    def contact_inbox_json(self, ci: JsonDict) -> JsonDict:
        inbox = self.inboxes[ci["inbox_id"]]
        return {"source_id": ci["source_id"], "inbox": self.inbox_json(inbox, admin=False)}

    def contact_inbox_row(self, ci: JsonDict) -> JsonDict:
        return {"id": ci["id"], "contact_id": ci["contact_id"], "inbox_id": ci["inbox_id"],
                "source_id": ci["source_id"], "created_at": iso8601(ci["created_at"]),
                "updated_at": iso8601(ci["updated_at"]), "hmac_verified": False,
                "pubsub_token": ci["pubsub_token"]}

    def contact_json(self, contact: JsonDict, *, with_contact_inboxes: bool = True) -> JsonDict:
        data = {
            "additional_attributes": _clone(contact["additional_attributes"]),
            "availability_status": "offline", "email": contact["email"], "id": contact["id"],
            "name": contact["name"], "phone_number": contact["phone_number"], "blocked": contact["blocked"],
            "identifier": contact["identifier"], "thumbnail": "",
            "custom_attributes": _clone(contact["custom_attributes"]),
            "last_activity_at": int(contact["last_activity_at"]) if contact["last_activity_at"] else None,
            "created_at": int(contact["created_at"]),
        }
        if with_contact_inboxes:
            data["contact_inboxes"] = [self.contact_inbox_json(ci) for ci in self.contact_inboxes.values()
                                       if ci["contact_id"] == contact["id"]]
        return data

    def contact_push(self, contact: JsonDict) -> JsonDict:
        return {"additional_attributes": _clone(contact["additional_attributes"]),
                "custom_attributes": _clone(contact["custom_attributes"]), "email": contact["email"],
                "id": contact["id"], "identifier": contact["identifier"], "name": contact["name"],
                "phone_number": contact["phone_number"], "thumbnail": "", "blocked": contact["blocked"],
                "type": "contact"}

    def contact_webhook(self, contact: JsonDict) -> JsonDict:
        data = self.contact_push(contact)
        del data["type"]  # removed in Chatwoot #6415
        return {"account": self.account_webhook(contact["account_id"]), "avatar": "", **data}

    def sender_data(self, message: JsonDict, *, webhook: bool) -> JsonDict | None:
        kind, sender_id = message["sender_type"], message["sender_id"]
        if kind == "User":
            user = self.users[sender_id]
            if webhook:
                return {"id": user["id"], "name": user["name"], "email": user["email"], "type": "user"}
            return {"id": user["id"], "name": user["name"], "available_name": user["name"], "avatar_url": "",
                    "type": "user", "availability_status": "online", "thumbnail": ""}
        if kind == "AgentBot":
            bot = self.agent_bots[sender_id]
            if webhook:
                return {"id": bot["id"], "name": bot["name"], "type": "agent_bot"}
            return {"id": bot["id"], "name": bot["name"], "avatar_url": "", "type": "agent_bot"}
        if kind == "Contact":
            contact = self.contacts[sender_id]
            return self.contact_webhook(contact) if webhook else self.contact_push(contact)
        return None

    def attachment_json(self, att: JsonDict) -> JsonDict:
        """``Attachment#push_event_data`` for uploaded files (data_url = ActiveStorage redirect URL)."""
        tail = f"redirect/{att['blob_key']}/{att['url_filename']}"
        host = self.frontend_url or self.base_url  # url_for with default_url_options host: FRONTEND_URL
        data = {"id": att["id"], "message_id": att["message_id"], "file_type": att["file_type"],
                "account_id": att["account_id"], "extension": att["extension"],
                "content_type": att["content_type"],
                "data_url": f"{host}/rails/active_storage/blobs/{tail}",
                "thumb_url": "", "file_size": len(att["data"]), "width": None, "height": None}
        if att["file_type"] == "image":
            data["thumb_url"] = f"{host}/rails/active_storage/representations/{tail}"
        if att["file_type"] == "audio":
            data["transcribed_text"] = None
            if att["is_voice_message"]:
                data["meta"] = {"is_voice_message": True}
        return data

    def message_rest(self, m: JsonDict) -> JsonDict:
        """``api/v1/models/_message.json.jbuilder``."""
        conv = self.conversations[m["conversation_key"]]
        data: JsonDict = {"id": m["id"], "content": m["content"], "inbox_id": m["inbox_id"]}
        if m.get("echo_id"):
            data["echo_id"] = m["echo_id"]
        data.update({"conversation_id": conv["id"], "message_type": MESSAGE_TYPES[m["message_type"]],
                     "content_type": m["content_type"], "status": m["status"],
                     "content_attributes": _clone(m["content_attributes"]),
                     "created_at": int(m["created_at"]), "private": m["private"],
                     "source_id": m["source_id"]})
        sender = self.sender_data(m, webhook=False)
        if sender is not None:
            data["sender"] = sender
        if m["attachment_ids"]:
            data["attachments"] = [self.attachment_json(self.attachments[a]) for a in m["attachment_ids"]]
        return data

    def message_destroyed(self, m: JsonDict) -> JsonDict:
        """``messages/destroy.json.jbuilder``: the REST fields without ``status`` and ``echo_id``."""
        data = self.message_rest(m)
        data.pop("status")
        data.pop("echo_id", None)
        return data

    def message_push(self, m: JsonDict, *, webhook: bool = False) -> JsonDict:
        """``Message#push_event_data`` (``webhook_push_event_data`` normalizes the content)."""
        conv = self.conversations[m["conversation_key"]]
        content = webhook_content(m["content"]) if webhook else m["content"]
        source_id = self.contact_inboxes[conv["contact_inbox_id"]]["source_id"]
        data: JsonDict = {
            "id": m["id"], "content": content, "account_id": m["account_id"], "inbox_id": m["inbox_id"],
            "conversation_id": conv["id"], "message_type": MESSAGE_TYPES[m["message_type"]],
            "created_at": int(m["created_at"]), "updated_at": iso8601(m["updated_at"]),
            "private": m["private"], "status": m["status"], "source_id": m["source_id"],
            "content_type": m["content_type"],
            "content_attributes": _clone(m["content_attributes"]), "sender_type": m["sender_type"],
            "sender_id": m["sender_id"], "external_source_ids": {},
            "additional_attributes": _clone(m["additional_attributes"]),
            "processed_message_content": m["content"], "sentiment": {},
            "conversation": {"assignee_id": None, "unread_count": self._unread_count(conv),
                             "last_activity_at": int(conv["last_activity_at"]),
                             "contact_inbox": {"source_id": source_id}},
        }
        if m["attachment_ids"]:
            data["attachments"] = [self.attachment_json(self.attachments[a]) for a in m["attachment_ids"]]
        sender = self.sender_data(m, webhook=False)
        if sender is not None:
            data["sender"] = sender
        return data

    def message_webhook(self, m: JsonDict) -> JsonDict:
        """``Message#webhook_data``: string message_type, ISO created_at, no status."""
        data: JsonDict = {
            "account": self.account_webhook(m["account_id"]),
            "additional_attributes": _clone(m["additional_attributes"]),
            "content_attributes": _clone(m["content_attributes"]), "content_type": m["content_type"],
            "content": webhook_content(m["content"]),
            "conversation": self.conversation_webhook(self.conversations[m["conversation_key"]]),
            "created_at": iso8601(m["created_at"]), "id": m["id"],
            "inbox": {"id": m["inbox_id"], "name": self.inboxes[m["inbox_id"]]["name"]},
            "message_type": m["message_type"], "private": m["private"],
            "sender": self.sender_data(m, webhook=True), "source_id": m["source_id"],
        }
        if m["attachment_ids"]:
            data["attachments"] = [self.attachment_json(self.attachments[a]) for a in m["attachment_ids"]]
        return data

    def _last_chat_message(self, conv: JsonDict) -> JsonDict | None:
        chat = [m for m in self.conversation_messages(conv)
                if m["message_type"] != "activity" and not m["private"]]
        return chat[-1] if chat else None

    def _unread_count(self, conv: JsonDict) -> int:
        return sum(1 for m in self.conversation_messages(conv)
                   if m["message_type"] == "incoming" and m["created_at"] > conv["agent_last_seen_at"])

    def can_reply(self, conv: JsonDict) -> bool:
        """``Conversations::MessageWindowService`` for API inboxes (``agent_reply_time_window`` hours)."""
        window = self.inboxes[conv["inbox_id"]]["additional_attributes"].get("agent_reply_time_window")
        if window in (None, ""):
            return True
        incoming = [m for m in self.conversation_messages(conv) if m["message_type"] == "incoming"]
        return bool(incoming) and time.time() < incoming[-1]["created_at"] + ruby_to_i(window) * 3600

    def _conversation_common(self, conv: JsonDict) -> JsonDict:
        return {
            "additional_attributes": _clone(conv["additional_attributes"]),
            "can_reply": self.can_reply(conv),
            "custom_attributes": _clone(conv["custom_attributes"]), "id": conv["id"],
            "inbox_id": conv["inbox_id"], "labels": list(conv["labels"]), "status": conv["status"],
            "snoozed_until": conv["snoozed_until"], "unread_count": self._unread_count(conv),
            "first_reply_created_at": conv["first_reply_created_at"], "priority": conv["priority"],
            "waiting_since": int(conv["waiting_since"] or 0),
            "agent_last_seen_at": int(conv["agent_last_seen_at"]),
            "contact_last_seen_at": int(conv["contact_last_seen_at"]),
            "last_activity_at": int(conv["last_activity_at"]), "timestamp": int(conv["last_activity_at"]),
            "created_at": int(conv["created_at"]), "updated_at": conv["updated_at"],
        }

    def conversation_rest(self, conv: JsonDict) -> JsonDict:
        """``api/v1/conversations/partials/_conversation.json.jbuilder``."""
        last = self._last_chat_message(conv)
        contact = self.contacts[conv["contact_id"]]
        return {
            "meta": {"sender": self.contact_push(contact), "channel": "Channel::Api", "assignee": None,
                     "hmac_verified": False},
            **self._conversation_common(conv), "account_id": conv["account_id"], "uuid": conv["uuid"],
            "messages": [self.message_push(last)] if last else [],
            "assignee_last_seen_at": None, "muted": False,
            "last_non_activity_message": self.message_push(last) if last else None, "sla_policy_id": None,
        }

    def conversation_webhook(self, conv: JsonDict) -> JsonDict:
        """``Conversations::EventDataPresenter#webhook_data``."""
        last = self._last_chat_message(conv)
        contact = self.contacts[conv["contact_id"]]
        return {
            **self._conversation_common(conv), "channel": "Channel::Api",
            "contact_inbox": self.contact_inbox_row(self.contact_inboxes[conv["contact_inbox_id"]]),
            "messages": [self.message_push(last, webhook=True)] if last else [],
            "meta": {"sender": self.contact_push(contact), "assignee": None, "assignee_type": None,
                     "team": None, "hmac_verified": False},
            "account": self.account_webhook(conv["account_id"]),
        }

    # ------------------------------------------------------------------ events
    def message_event(self, event: str, m: JsonDict) -> list[Outbound]:
        if m["message_type"] == "activity":  # webhook_sendable? excludes activity messages
            return []
        payload = {**self.message_webhook(m), "event": event}
        return [Outbound(m["inbox_id"], event, payload, m["id"])]

    def conversation_event(self, event: str, conv: JsonDict,
                           changed: list[JsonDict] | None = None) -> list[Outbound]:
        payload = {**self.conversation_webhook(conv), "event": event}
        if changed is not None:
            payload["changed_attributes"] = changed
        return [Outbound(conv["inbox_id"], event, payload)]

    def typing_event(self, conv: JsonDict, actor: Actor, on: bool, is_private: bool) -> list[Outbound]:
        if actor.kind == "user":
            user = self.users[actor.id]
            who = {"id": user["id"], "name": user["name"], "email": user["email"], "type": "user"}
        else:
            bot = self.agent_bots[actor.id]
            who = {"id": bot["id"], "name": bot["name"], "type": "agent_bot"}
        event = "conversation_typing_on" if on else "conversation_typing_off"
        payload = {"event": event, "user": who, "conversation": self.conversation_webhook(conv),
                   "is_private": is_private}
        return [Outbound(conv["inbox_id"], event, payload)]

    # ------------------------------------------------------------------ contacts
    def _validate_contact(self, account_id: int, fields: JsonDict, exclude_id: int | None = None) -> None:
        errors: list[tuple[str, str]] = []
        others = [c for c in self.contacts.values()
                  if c["account_id"] == account_id and c["id"] != exclude_id]
        phone = fields.get("phone_number")
        if phone:
            if not PHONE_RE.fullmatch(phone):
                errors.append(("phone_number", "Phone number should be in e164 format"))
            elif any(c["phone_number"] == phone for c in others):
                errors.append(("phone_number", "Phone number has already been taken"))
        email = fields.get("email")
        if email and any((c["email"] or "").lower() == email.lower() for c in others):
            errors.append(("email", "Email has already been taken"))
        identifier = fields.get("identifier")
        if identifier and any(c["identifier"] == identifier for c in others):
            errors.append(("identifier", "Identifier has already been taken"))
        if errors:
            raise record_invalid(errors)

    @staticmethod
    def _contact_fields(params: JsonDict) -> JsonDict:
        fields: JsonDict = {}
        for key in ("name", "email", "phone_number", "identifier"):
            if key in params:
                value = params[key]
                value = str(value).strip() if value not in (None, "") else None
                fields[key] = value.lower() if key == "email" and value else value
        if "blocked" in params:
            fields["blocked"] = to_bool(params["blocked"])
        return fields

    def create_contact(self, account_id: int, params: JsonDict) -> tuple[JsonDict, JsonDict | None]:
        self.account(account_id)
        fields = self._contact_fields(params)
        self._validate_contact(account_id, fields)
        inbox = None
        if params.get("inbox_id") not in (None, ""):
            inbox = self.inbox(account_id, params["inbox_id"])
        source_id = params.get("source_id")
        if inbox is not None and source_id:
            self._check_source_id_free(inbox["id"], str(source_id), contact_id=None)
        now = time.time()
        contact = {"id": self._next_id("contacts"), "account_id": account_id,
                   "name": fields.get("name") or "", "email": fields.get("email"),
                   "phone_number": fields.get("phone_number"),
                   "identifier": fields.get("identifier"), "blocked": fields.get("blocked", False),
                   "custom_attributes": _clone(params.get("custom_attributes") or {}),
                   "additional_attributes": _clone(params.get("additional_attributes") or {}),
                   "created_at": now, "updated_at": now, "last_activity_at": None}
        self.contacts[contact["id"]] = contact
        ci = self.build_contact_inbox(contact, inbox, source_id) if inbox is not None else None
        return contact, ci

    def _check_source_id_free(self, inbox_id: int, source_id: str, contact_id: int | None) -> None:
        for ci in self.contact_inboxes.values():
            if ci["inbox_id"] == inbox_id and ci["source_id"] == source_id and ci["contact_id"] != contact_id:
                raise record_invalid([("source_id", "Source has already been taken")])

    def build_contact_inbox(self, contact: JsonDict, inbox: JsonDict, source_id: Any) -> JsonDict:
        """``ContactInboxBuilder``: find (contact, inbox, source_id) or create it; blank source_id → UUID."""
        source = str(source_id) if source_id not in (None, "") else str(uuid.uuid4())
        for ci in self.contact_inboxes.values():
            if (ci["contact_id"], ci["inbox_id"], ci["source_id"]) == (contact["id"], inbox["id"], source):
                return ci
        self._check_source_id_free(inbox["id"], source, contact["id"])
        now = time.time()
        ci = {"id": self._next_id("contact_inboxes"), "contact_id": contact["id"], "inbox_id": inbox["id"],
              "source_id": source, "pubsub_token": secure_token(), "created_at": now, "updated_at": now}
        self.contact_inboxes[ci["id"]] = ci
        return ci

    def update_contact(self, account_id: int, contact_id: int, params: JsonDict) -> JsonDict:
        contact = self.contact(account_id, contact_id)
        fields = self._contact_fields(params)
        self._validate_contact(account_id, fields, exclude_id=contact["id"])
        contact.update(fields)
        for key in ("custom_attributes", "additional_attributes"):  # merged, not replaced
            if isinstance(params.get(key), dict):
                contact[key] = {**contact[key], **_clone(params[key])}
        contact["updated_at"] = time.time()
        return contact

    def filter_contact_inbox(self, account_id: int, inbox_id: Any, source_id: Any) -> JsonDict | None:
        inbox = self.inbox(account_id, inbox_id)
        for ci in self.contact_inboxes.values():
            if ci["inbox_id"] == inbox["id"] and ci["source_id"] == str(source_id):
                return self.contacts[ci["contact_id"]]
        return None

    def search_contacts(self, account_id: int, query: str) -> list[JsonDict]:
        """ILIKE over name/email/phone_number, LIKE over identifier; only contacts with an identity."""
        self.account(account_id)
        needle = query.strip()
        found = []
        for c in self.contacts.values():
            if c["account_id"] != account_id or not (c["email"] or c["phone_number"] or c["identifier"]):
                continue
            loose = [c["name"], c["email"], c["phone_number"]]
            exact = bool(c["identifier"]) and needle in c["identifier"]
            if exact or any(v and needle.lower() in v.lower() for v in loose):
                found.append(c)
        return found

    def contact_conversations(self, account_id: int, contact_id: int) -> list[JsonDict]:
        contact = self.contact(account_id, contact_id)
        convs = [c for c in self.conversations.values() if c["contact_id"] == contact["id"]]
        return sorted(convs, key=lambda c: c["last_activity_at"], reverse=True)[:20]

    # ------------------------------------------------------------------ conversations
    def _active_bot(self, inbox: JsonDict) -> bool:
        return inbox["agent_bot_id"] is not None

    def create_conversation(self, account_id: int, params: JsonDict) -> tuple[JsonDict, bool]:
        """``ConversationBuilder``; returns (conversation, created?) — lock_to_single_conversation reuses."""
        self.account(account_id)
        if params.get("contact_id") not in (None, "") and params.get("inbox_id") not in (None, ""):
            inbox = self.inbox(account_id, params["inbox_id"])
            contact = self.contact(account_id, params["contact_id"])
            ci = self.build_contact_inbox(contact, inbox, params.get("source_id"))
        elif params.get("source_id"):  # legacy global lookup
            matches = [c for c in self.contact_inboxes.values() if c["source_id"] == str(params["source_id"])]
            if not matches:
                raise not_found()
            ci = matches[0]
            inbox = self.inboxes[ci["inbox_id"]]
            if inbox["account_id"] != account_id:
                raise not_found()
        else:
            raise not_found()
        if inbox["lock_to_single_conversation"]:
            existing = [c for c in self.conversations.values() if c["contact_inbox_id"] == ci["id"]]
            if existing:
                return max(existing, key=lambda c: c["uid"]), False
        status = params.get("status") or ("pending" if self._active_bot(inbox) else "open")
        if status not in CONVERSATION_STATUSES:
            raise unprocessable(f"'{status}' is not a valid status")
        self._display_ids[account_id] = self._display_ids.get(account_id, 0) + 1
        now = time.time()
        conv = {
            "id": self._display_ids[account_id], "uid": self._next_id("conversations"),
            "uuid": str(uuid.uuid4()), "account_id": account_id, "inbox_id": inbox["id"],
            "contact_id": ci["contact_id"],
            "contact_inbox_id": ci["id"], "status": status,
            "additional_attributes": _clone(params.get("additional_attributes") or {}),
            "custom_attributes": _clone(params.get("custom_attributes") or {}), "labels": [],
            "snoozed_until": params.get("snoozed_until"), "priority": None, "first_reply_created_at": None,
            "waiting_since": None, "agent_last_seen_at": 0.0, "contact_last_seen_at": 0.0,
            "created_at": now, "updated_at": now, "last_activity_at": now, "message_ids": [],
        }
        self.conversations[(account_id, conv["id"])] = conv
        return conv, True

    def change_status(self, conv: JsonDict, status: str, snoozed_until: Any = None) -> list[Outbound]:
        if status == "bot":
            status = "pending"
        if status not in CONVERSATION_STATUSES:
            raise unprocessable(f"'{status}' is not a valid status")
        previous = conv["status"]
        conv["status"] = status
        conv["snoozed_until"] = snoozed_until if status == "snoozed" else None
        conv["updated_at"] = time.time()
        if previous == status:
            return []
        changed = [{"status": {"previous_value": previous, "current_value": status}}]
        return self.conversation_event("conversation_status_changed", conv, changed)

    def toggle_status(self, conv: JsonDict, status: Any, snoozed_until: Any = None) -> list[Outbound]:
        if status in (None, ""):
            status = "resolved" if conv["status"] == "open" else "open"
        return self.change_status(conv, str(status), snoozed_until)

    def set_custom_attributes(self, conv: JsonDict, attributes: Any) -> list[Outbound]:
        """Chatwoot assigns (``@conversation.custom_attributes = …``): the whole hash is REPLACED."""
        previous = _clone(conv["custom_attributes"])
        conv["custom_attributes"] = _clone(attributes) if isinstance(attributes, dict) else {}
        conv["updated_at"] = time.time()
        if previous == conv["custom_attributes"]:
            return []
        changed = [{"custom_attributes": {"previous_value": previous,
                                          "current_value": _clone(conv["custom_attributes"])}}]
        return self.conversation_event("conversation_updated", conv, changed)

    def set_labels(self, conv: JsonDict, labels: Iterable[Any]) -> list[Outbound]:
        """``update_labels``: the label list becomes exactly the given list."""
        previous = list(conv["labels"])
        conv["labels"] = sorted({str(label).strip().lower() for label in labels if str(label).strip()})
        if previous == conv["labels"]:
            return []
        changed = [{"label_list": {"previous_value": previous, "current_value": list(conv["labels"])}}]
        return self.conversation_event("conversation_updated", conv, changed)

    # ------------------------------------------------------------------ messages
    def create_message(self, account_id: int, display_id: int, params: JsonDict,
                       files: list[tuple[str, bytes, str]],
                       actor: Actor | None) -> tuple[JsonDict, list[Outbound]]:
        """``Messages::MessageBuilder`` + Message callbacks. ``actor`` None = contact/automation via sim."""
        conv = self.conversation(account_id, display_id)
        inbox = self.inboxes[conv["inbox_id"]]
        raw_type = params.get("message_type") or "outgoing"
        as_int = to_int(raw_type)
        by_number = {number: name for name, number in MESSAGE_TYPES.items()}
        message_type = str(raw_type) if as_int is None else by_number.get(as_int, "")
        if message_type not in MESSAGE_TYPES:
            raise unprocessable(f"'{raw_type}' is not a valid message_type")
        content_type = params.get("content_type") or "text"
        if content_type not in CONTENT_TYPES:
            raise unprocessable(f"'{content_type}' is not a valid content_type")
        content = params.get("content")
        content = None if content is None else str(content)
        if content is not None and len(content) > MAX_CONTENT_LENGTH:
            limit = f"(maximum is {MAX_CONTENT_LENGTH} characters)"
            raise unprocessable(f"Validation failed: Content is too long {limit}")
        if len(files) > MAX_ATTACHMENTS:
            raise unprocessable("Validation failed: Attachments exceeded maximum allowed")
        now = time.time()
        recent = [m for m in self.conversation_messages(conv) if m["created_at"] >= now - 60]
        if len(recent) >= MESSAGES_PER_MINUTE_LIMIT:
            raise unprocessable("Validation failed: Too many messages")
        sender_type, sender_id = self._message_sender(conv, message_type, params, actor)
        attributes = params.get("content_attributes") or {}
        attributes = _clone(attributes) if isinstance(attributes, dict) else {}
        errors = content_attributes_errors(content_type, attributes)
        if errors:
            raise unprocessable("Validation failed: " + ", ".join(errors))
        if params.get("external_created_at") not in (None, ""):
            attributes["external_created_at"] = params["external_created_at"]
        self._resolve_in_reply_to(conv, attributes)
        additional = _clone(params.get("additional_attributes") or {})
        template_params = params.get("template_params")
        if not blank(template_params):  # MessageBuilder#template_params: `.blank?` ones are not stored
            errors = template_params_errors(template_params)
            if errors:
                raise unprocessable("Validation failed: " + ", ".join(errors))
            additional["template_params"] = _clone(template_params)
        if params.get("campaign_id") not in (None, ""):
            additional["campaign_id"] = params["campaign_id"]
        message = {
            "id": self._next_id("messages"), "account_id": account_id, "inbox_id": inbox["id"],
            "conversation_key": (account_id, conv["id"]), "content": content, "message_type": message_type,
            "content_type": content_type, "content_attributes": attributes,
            "additional_attributes": additional,
            "private": to_bool(params.get("private", False)), "status": "sent",
            "source_id": str(params["source_id"]) if params.get("source_id") not in (None, "") else None,
            "sender_type": sender_type, "sender_id": sender_id, "echo_id": params.get("echo_id"),
            "created_at": now, "updated_at": now, "attachment_ids": [],
        }
        voice = to_bool(params.get("is_voice_message", False))
        for filename, data, mime in files:
            self._add_attachment(message, filename, data, mime, voice)
        self.messages[message["id"]] = message
        conv["message_ids"].append(message["id"])
        outbounds = self._after_message_created(conv, inbox, message)
        return message, outbounds

    def _message_sender(self, conv: JsonDict, message_type: str, params: JsonDict,
                        actor: Actor | None) -> tuple[str | None, int | None]:
        if message_type == "incoming":
            # "Incoming messages are only allowed in Api inboxes": every simulated inbox is an API inbox.
            return "Contact", conv["contact_id"]
        if params.get("sender_type") == "AgentBot":
            bot = self.agent_bots.get(to_int(params.get("sender_id")) or 0)
            if bot is not None and bot["account_id"] in (None, conv["account_id"]):
                return "AgentBot", bot["id"]
        if actor is None:
            return None, None
        return ("User", actor.id) if actor.kind == "user" else ("AgentBot", actor.id)

    def _resolve_in_reply_to(self, conv: JsonDict, attributes: JsonDict) -> None:
        """``Messages::InReplyToMessageBuilder`` (same conversation only)."""
        messages = self.conversation_messages(conv)
        if attributes.get("in_reply_to") not in (None, ""):
            target = to_int(attributes["in_reply_to"])
            found = next((m for m in messages if m["id"] == target), None)
            attributes["in_reply_to_external_id"] = found["source_id"] if found else None
        elif attributes.get("in_reply_to_external_id") not in (None, ""):
            external = str(attributes["in_reply_to_external_id"])
            found = next((m for m in messages if m["source_id"] == external), None)
            attributes["in_reply_to"] = found["id"] if found else None

    def _add_attachment(self, message: JsonDict, filename: str, data: bytes, mime: str, voice: bool) -> None:
        blob_key = secrets.token_urlsafe(24)
        file_type = file_type_for(mime)
        extension = filename.rsplit(".", 1)[1].lower() if "." in filename else None
        att = {"id": self._next_id("attachments"), "message_id": message["id"],
               "account_id": message["account_id"], "file_type": file_type,
               "content_type": mime or "application/octet-stream", "filename": filename,
               "url_filename": quote(filename or "file"), "extension": extension, "data": bytes(data),
               "blob_key": blob_key, "is_voice_message": voice and file_type == "audio"}
        self.attachments[att["id"]] = att
        self.blobs[blob_key] = att["id"]
        message["attachment_ids"].append(att["id"])

    def _after_message_created(self, conv: JsonDict, inbox: JsonDict, message: JsonDict) -> list[Outbound]:
        outbounds: list[Outbound] = []
        if message["message_type"] == "incoming":  # reopen_conversation
            if conv["status"] == "snoozed":
                outbounds += self.change_status(conv, "open")
            elif conv["status"] == "resolved":
                outbounds += self.change_status(conv, "pending" if self._active_bot(inbox) else "open")
            if message["sender_type"] == "Contact":
                self.contacts[conv["contact_id"]]["last_activity_at"] = message["created_at"]
            if conv["waiting_since"] is None:
                conv["waiting_since"] = message["created_at"]
        elif message["message_type"] == "outgoing" and message["sender_type"] == "User" \
                and not message["private"]:
            if conv["first_reply_created_at"] is None:
                conv["first_reply_created_at"] = int(message["created_at"])
            conv["waiting_since"] = None
        conv["last_activity_at"] = message["created_at"]
        conv["updated_at"] = message["created_at"]
        return outbounds + self.message_event("message_created", message)

    def find_message(self, account_id: int, display_id: int, message_id: int) -> JsonDict:
        conv = self.conversation(account_id, display_id)
        if message_id not in conv["message_ids"]:
            raise not_found()
        return self.messages[message_id]

    def update_message_status(self, message: JsonDict, status: Any, external_error: Any) -> list[Outbound]:
        """``Messages::StatusUpdateService``; fires ``message_updated`` only when something changed."""
        if status not in MESSAGE_STATUSES:
            return []
        if message["status"] == "read" and status == "delivered":
            return []
        before = (message["status"], _clone(message["content_attributes"]))
        message["status"] = status
        # update!(status:, external_error: (failed ? error : nil)): a cleared error stays as a null key.
        _store_write(message["content_attributes"], "external_error", external_error if status == "failed" else None)
        if before == (message["status"], message["content_attributes"]):
            return []
        message["updated_at"] = time.time()
        return self.message_event("message_updated", message)

    def delete_message(self, message: JsonDict) -> list[Outbound]:
        """``MessagesController#destroy``: the content becomes "This message was deleted", content_type text,
        content_attributes exactly ``{deleted: true}`` (in_reply_to and external_error go), attachments are
        destroyed; the status stays. One ``message_updated``."""
        for att_id in message["attachment_ids"]:
            att = self.attachments.pop(att_id, None)
            if att is not None:
                self.blobs.pop(att["blob_key"], None)
        message.update({"content": DELETED_CONTENT, "content_type": "text", "content_attributes": {"deleted": True},
                        "attachment_ids": [], "updated_at": time.time()})
        return self.message_event("message_updated", message)

    def retry_message(self, message: JsonDict) -> list[Outbound]:
        """``MessagesController#retry`` (4.15.1): ``StatusUpdateService.new(message, 'sent')``, then
        ``update!(content_attributes: {})``: in_reply_to, in_reply_to_external_id and external_error are gone.

        Each committed update dispatches ``message_updated`` through the async dispatcher, whose job loads
        the message again: both webhooks carry the final state (status sent, content_attributes {}).
        SendReplyJob does nothing for an API inbox.
        """
        updates = 0
        if message["status"] != "sent" or message["content_attributes"].get("external_error") is not None:
            message["status"] = "sent"
            _store_write(message["content_attributes"], "external_error", None)
            updates += 1
        if message["content_attributes"] != {}:
            message["content_attributes"] = {}
            updates += 1
        if updates:
            message["updated_at"] = time.time()
        return [event for _ in range(updates) for event in self.message_event("message_updated", message)]

    def message_page(self, conv: JsonDict, params: JsonDict) -> list[JsonDict]:
        """``MessageFinder#perform``: between ``after`` and ``before`` (message ids), before one, after one,
        before ``before_timestamp``, else the latest 20; always oldest first."""
        rows = self.conversation_messages(conv)
        if not blank(params.get("filter_internal_messages")):
            rows = [m for m in rows if not m["private"] and m["message_type"] != "activity"]
        after, before = ruby_to_i(params.get("after")), ruby_to_i(params.get("before"))
        if not blank(params.get("after")) and not blank(params.get("before")):
            return [m for m in rows if after <= m["id"] < before][:MESSAGES_BETWEEN_LIMIT]
        if not blank(params.get("before")):
            return [m for m in rows if m["id"] < before][-MESSAGES_PAGE_SIZE:]
        if not blank(params.get("after")):
            return [m for m in rows if m["id"] > after][:MESSAGES_AFTER_LIMIT]
        if not blank(params.get("before_timestamp")):
            timestamp = ruby_to_i(params["before_timestamp"])
            return [m for m in rows if m["created_at"] < timestamp][-MESSAGES_PAGE_SIZE:]
        return rows[-MESSAGES_PAGE_SIZE:]

    def messages_in(self, account_id: int, display_id: int) -> list[JsonDict]:
        conv = self.conversation(account_id, display_id)
        result = []
        for m in self.conversation_messages(conv):
            data = self.message_rest(m)
            data["additional_attributes"] = _clone(m["additional_attributes"])
            data["attachments"] = [{**self.attachment_json(self.attachments[a]),
                                    "data": self.attachments[a]["data"],
                                    "filename": self.attachments[a]["filename"]} for a in m["attachment_ids"]]
            result.append(data)
        return result

    # ------------------------------------------------------------------ dashboard apps
    def dashboard_app_json(self, app: JsonDict) -> JsonDict:
        return {"id": app["id"], "title": app["title"], "content": _clone(app["content"]),
                "created_at": iso8601(app["created_at"])}

    def save_dashboard_app(self, account_id: int, params: JsonDict, app: JsonDict | None = None) -> JsonDict:
        self.account(account_id)
        wrapped = params.get("dashboard_app")
        body: JsonDict = wrapped if isinstance(wrapped, dict) else params
        title = body.get("title", app["title"] if app else None)
        content = body.get("content", app["content"] if app else None)
        errors: list[tuple[str, str]] = []
        if not title:
            errors.append(("title", "Title can't be blank"))
        valid = isinstance(content, list) and bool(content) and all(
            isinstance(item, dict) and item.get("type") == "frame"
            and re.match(r"^https?://", str(item.get("url", ""))) for item in content)
        if not valid:
            errors.append(("content", "Content : Invalid data"))
        if errors:
            raise record_invalid(errors)
        if app is None:
            app = {"id": self._next_id("dashboard_apps"), "account_id": account_id, "created_at": time.time()}
            self.dashboard_apps[app["id"]] = app
        app.update({"title": title, "content": _clone(content)})
        return app

    def dashboard_app(self, account_id: int, app_id: int) -> JsonDict:
        app = self.dashboard_apps.get(app_id)
        if app is None or app["account_id"] != account_id:
            raise not_found()
        return app
