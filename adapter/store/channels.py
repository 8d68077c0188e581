"""Channels: one per WhatsApp number, each tied to one helpdesk API inbox. Stored in Redis hashes."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any

from adapter.errors import ConfigurationError
from adapter.store import keys
from adapter.store.connection import Store
from adapter.store.replies import hash_fields, text_hash, texts
from adapter.store.secrets import PREFIX as SEALED
from adapter.store.secrets import SecretBox

SECRET_FIELDS = ("graph_access_token", "helpdesk_api_token", "helpdesk_webhook_secret")
SECRET_CACHE_SECONDS = 5.0  # how long a replaced inbox secret may still verify in another process


@dataclasses.dataclass(frozen=True)
class Channel:
    phone_number_id: str
    display_phone_number: str
    waba_id: str
    helpdesk_account_id: int
    helpdesk_inbox_id: int
    graph_access_token: str = dataclasses.field(repr=False)
    helpdesk_api_token: str = dataclasses.field(repr=False)
    helpdesk_webhook_secret: str = dataclasses.field(repr=False)
    default_agent_bot_id: int | None = None
    created_at: float = 0.0
    # Outside the 24-hour window: "reject" the reply, or "reroute" it to this approved template whose
    # body variables are filled from `reroute_parameters` (contact_name, agent_name, reply_text, const:<text>).
    window_policy: str = "reject"
    reroute_template_name: str = ""
    reroute_template_language: str = ""
    reroute_parameters: tuple[str, ...] = ()

    def public_view(self) -> dict[str, Any]:
        """Everything an admin may see: secrets only as "set" / "missing"."""
        view = dataclasses.asdict(self)
        for name in SECRET_FIELDS:
            view[name] = "set" if view[name] else "missing"
        return view

    def to_hash(self) -> dict[str, str]:
        values = dataclasses.asdict(self)
        values["reroute_parameters"] = json.dumps(list(self.reroute_parameters))
        return {name: "" if value is None else str(value) for name, value in values.items()}

    @classmethod
    def from_hash(cls, data: dict[str, str]) -> Channel:
        bot = data.get("default_agent_bot_id") or ""
        return cls(
            phone_number_id=data["phone_number_id"],
            display_phone_number=data.get("display_phone_number", ""),
            waba_id=data.get("waba_id", ""),
            helpdesk_account_id=int(data["helpdesk_account_id"]),
            helpdesk_inbox_id=int(data["helpdesk_inbox_id"]),
            graph_access_token=data.get("graph_access_token", ""),
            helpdesk_api_token=data.get("helpdesk_api_token", ""),
            helpdesk_webhook_secret=data.get("helpdesk_webhook_secret", ""),
            default_agent_bot_id=int(bot) if bot else None,
            created_at=float(data.get("created_at") or 0),
            window_policy=data.get("window_policy") or "reject",
            reroute_template_name=data.get("reroute_template_name", ""),
            reroute_template_language=data.get("reroute_template_language", ""),
            reroute_parameters=tuple(json.loads(data.get("reroute_parameters") or "[]")),
        )


class ChannelRepository:
    """Channels in Redis hashes, their secrets sealed with the SecretBox (required to store any)."""

    def __init__(self, store: Store, box: SecretBox | None = None, cache_seconds: float = 0.0) -> None:
        self.store = store
        self.box = box
        # Workers read a channel for every job: a few seconds of local cache saves a round trip and three
        # decryptions each time. Changes reach other processes within cache_seconds.
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Channel | None]] = {}
        self._secrets: dict[str, tuple[float, str]] = {}  # inbox secrets, as webhook_secret(cached=True) read them
        # Bumped by every write of this process: a read that overlapped one may hold the old hash, and is not
        # cached (else a thread reading while another saves would keep the old channel for cache_seconds).
        self._writes = 0
        self._cache_lock = threading.Lock()

    def save(self, channel: Channel) -> None:
        if self.box is None:
            raise ConfigurationError(
                "set ENCRYPTION_KEY before connecting a number: access tokens are only stored encrypted"
            )
        data = channel.to_hash()
        for name in SECRET_FIELDS:
            data[name] = self.box.seal(data[name])
        pipe = self.store.pipeline(transaction=True)
        pipe.delete(keys.channel(channel.phone_number_id))
        pipe.hset(keys.channel(channel.phone_number_id), mapping=hash_fields(data))
        pipe.execute()
        # Listed once stored (the index is another slot on a cluster): a crash in between leaves it unlisted
        # until saved again, never listed without its settings.
        self.store.sadd(keys.CHANNELS, channel.phone_number_id)
        self._forget(channel.phone_number_id)

    def get(self, phone_number_id: str) -> Channel | None:
        if self.cache_seconds:
            cached = self._cache.get(phone_number_id)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
        writes = self._writes
        data = text_hash(self.store.hgetall(keys.channel(phone_number_id)))
        channel = self._load(data) if data else None
        if self.cache_seconds:
            with self._cache_lock:
                if writes == self._writes:
                    self._cache[phone_number_id] = (time.monotonic() + self.cache_seconds, channel)
        return channel

    def _forget(self, phone_number_id: str) -> None:
        """After a write: this process reads the channel anew, and no read begun before it is cached."""
        with self._cache_lock:
            self._writes += 1
            self._cache.pop(phone_number_id, None)
            self._secrets.pop(phone_number_id, None)

    def _load(self, data: dict[str, str]) -> Channel:
        for name in SECRET_FIELDS:
            data[name] = self._open(data.get(name, ""))
        return Channel.from_hash(data)

    def _open(self, stored: str) -> str:
        if self.box is None:
            if stored.startswith(SEALED):
                raise ConfigurationError("stored secrets are encrypted: set ENCRYPTION_KEY")
            return stored
        return self.box.open(stored)

    def has_secrets(self) -> bool:
        """Whether any channel (and so any token) is stored: then ENCRYPTION_KEY is required."""
        return bool(self.store.scard(keys.CHANNELS))

    def webhook_secret(self, phone_number_id: str, *, cached: bool = False) -> str | None:
        """Only the inbox secret, for verifying helpdesk webhooks in one cheap read.

        `cached`: this process's copy, up to SECRET_CACHE_SECONDS old (read anew when older or missing). A
        caller whose signature check fails with it reads it again uncached: a rotated secret works at once.
        A missing channel is never cached, so a number connected through another process is found at once.
        """
        if cached:
            known = self._secrets.get(phone_number_id)
            if known is not None and known[0] > time.monotonic():
                return known[1]
        writes = self._writes
        value = self.store.hget(keys.channel(phone_number_id), "helpdesk_webhook_secret")
        secret = self._open(str(value)) if value is not None else None
        with self._cache_lock:
            if secret is None or writes != self._writes:
                self._secrets.pop(phone_number_id, None)
            else:
                self._secrets[phone_number_id] = (time.monotonic() + SECRET_CACHE_SECONDS, secret)
        return secret

    def all(self) -> list[Channel]:
        ids = sorted(texts(list(self.store.smembers(keys.CHANNELS))))
        pipe = self.store.pipeline(transaction=False)
        for phone_number_id in ids:
            pipe.hgetall(keys.channel(phone_number_id))
        return [self._load(data) for data in pipe.execute() if data]

    def of_waba(self, waba_id: str) -> list[Channel]:
        """The connected numbers of one WhatsApp Business Account."""
        return [channel for channel in self.all() if channel.waba_id == waba_id]

    def remove(self, phone_number_id: str) -> bool:
        self.store.srem(keys.CHANNELS, phone_number_id)  # unlisted first: never listed without its settings
        removed = bool(self.store.delete(keys.channel(phone_number_id)))
        self._forget(phone_number_id)
        return removed
