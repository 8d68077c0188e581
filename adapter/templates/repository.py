"""TemplateRepository: each WABA's templates in Redis, replaced whole by a sync and patched by webhooks.

Layout (adapter/store/keys.py): a hash "<name>:<language>" -> template JSON (Graph shape), an id index for
webhooks (they name templates by id), and the time of the last sync. A sync swaps everything in one
MULTI so a reader never sees half a catalogue; webhook patches are read-modify-write under WATCH so a
concurrent sync or patch is never overwritten with stale data.
"""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from adapter.clock import Clock, SystemClock
from adapter.store import keys
from adapter.store.connection import Store
from adapter.store.replies import hash_fields, text, texts
from adapter.templates.model import Template

logger = logging.getLogger(__name__)


def _encode(template: Template) -> str:
    return json.dumps(template.to_graph(), ensure_ascii=False, separators=(",", ":"))


def _decode(raw: str) -> Template:
    return Template.from_graph(json.loads(raw))


class TemplateRepository:
    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()

    # --- whole catalogue -----------------------------------------------------------------------

    def replace_all(self, waba_id: str, templates: builtins.list[Template]) -> None:
        """Swap the WABA's stored templates for `templates` atomically and record the sync time."""
        by_field = {keys.template_field(t.name, t.language): _encode(t) for t in templates}
        ids = {t.id: keys.template_field(t.name, t.language) for t in templates if t.id}
        pipe = self.store.pipeline(transaction=True)
        pipe.delete(keys.templates(waba_id), keys.template_ids(waba_id))
        if by_field:
            pipe.hset(keys.templates(waba_id), mapping=hash_fields(by_field))
        if ids:
            pipe.hset(keys.template_ids(waba_id), mapping=hash_fields(ids))
        pipe.set(keys.templates_synced_at(waba_id), repr(self.clock.now()))
        pipe.execute()

    def synced_at(self, waba_id: str) -> float | None:
        """When the WABA's templates were last synced; None if never."""
        value = self.store.get(keys.templates_synced_at(waba_id))
        return float(value) if value else None

    def list(self, waba_id: str) -> builtins.list[Template]:
        """All stored templates of the WABA, by name then language."""
        found = [_decode(raw) for raw in texts(self.store.hvals(keys.templates(waba_id)))]
        return sorted(found, key=lambda t: (t.name, t.language))

    def get(self, waba_id: str, name: str, language: str) -> Template | None:
        """One template; the language matches case-insensitively with "-" read as "_"."""
        raw = self.store.hget(keys.templates(waba_id), keys.template_field(name, language))
        return _decode(text(raw)) if raw else None

    def get_by_id(self, waba_id: str, template_id: str | int) -> Template | None:
        field = self.store.hget(keys.template_ids(waba_id), str(template_id))
        raw = self.store.hget(keys.templates(waba_id), field) if field else None
        return _decode(text(raw)) if raw else None

    # --- webhook patches -------------------------------------------------------------------------

    def apply_status(
        self,
        waba_id: str,
        status: str,
        *,
        template_id: str | int | None = None,
        name: str | None = None,
        language: str | None = None,
        reason: str | None = None,
        recommendation: str | None = None,
        detail: str | None = None,
    ) -> Template | None:
        """A message_template_status_update: the new status and, for rejections, why. None if unknown here."""
        status = status.upper()

        def change(t: Template) -> Template:
            if status == "REJECTED":
                return replace(t, status=status, rejected_reason=reason or t.rejected_reason,
                               rejection_recommendation=recommendation, rejection_detail=detail)
            # Any other status ends an earlier rejection: its explanation would now mislead.
            return replace(t, status=status, rejected_reason=reason if reason else None,
                           rejection_recommendation=None, rejection_detail=None)

        return self._patch(waba_id, template_id, name, language, change)

    def apply_quality(
        self,
        waba_id: str,
        score: str,
        *,
        template_id: str | int | None = None,
        name: str | None = None,
        language: str | None = None,
    ) -> Template | None:
        """A message_template_quality_update: GREEN, YELLOW, RED or UNKNOWN."""
        return self._patch(waba_id, template_id, name, language, lambda t: replace(t, quality_score=score.upper()))

    def apply_category(
        self,
        waba_id: str,
        new_category: str,
        *,
        template_id: str | int | None = None,
        name: str | None = None,
        language: str | None = None,
        correct_category: str | None = None,
    ) -> Template | None:
        """A template_category_update.

        The advance notice carries `correct_category` and a `new_category` that is still the *current* one;
        the completion carries only `new_category` (whatsapp.md §2.6). Either way `new_category` is now true.
        """
        correct = correct_category.upper() if correct_category else None
        return self._patch(
            waba_id, template_id, name, language,
            lambda t: replace(t, category=new_category.upper(), correct_category=correct),
        )  # fmt: skip

    def remove(
        self,
        waba_id: str,
        *,
        template_id: str | int | None = None,
        name: str | None = None,
        language: str | None = None,
    ) -> int:
        """Forget templates: one by id or name+language, or every language of a name. Returns how many."""
        fields = self._fields(waba_id, template_id, name, language)
        if not fields:
            return 0
        by_field = dict(zip(fields, self.store.hmget(keys.templates(waba_id), fields), strict=True))
        ids = [_decode(text(raw)).id for raw in by_field.values() if raw]
        pipe = self.store.pipeline(transaction=True)
        pipe.hdel(keys.templates(waba_id), *fields)
        if ids:
            pipe.hdel(keys.template_ids(waba_id), *ids)
        return int(pipe.execute()[0])

    # --- internals -------------------------------------------------------------------------------

    def _fields(
        self, waba_id: str, template_id: str | int | None, name: str | None, language: str | None
    ) -> builtins.list[str]:
        if template_id not in (None, ""):
            field = self.store.hget(keys.template_ids(waba_id), str(template_id))
            if field:
                return [text(field)]
            if not name:
                return []
        if name and language:
            return [keys.template_field(name, language)]
        if name:
            prefix = f"{name}:"
            return [f for f in texts(self.store.hkeys(keys.templates(waba_id))) if f.startswith(prefix)]
        raise ValueError("name a template by template_id or by name (and language)")

    @staticmethod
    def _field(reader: Any, waba_id: str, template_id: str | int | None, name: str | None,
               language: str | None) -> str | None:
        """The one hash field of a template named by id (preferred) or by name and language."""
        if template_id not in (None, ""):
            field = reader.hget(keys.template_ids(waba_id), str(template_id))
            if field:
                return str(field)
        return keys.template_field(name, language) if name and language else None

    def _patch(
        self,
        waba_id: str,
        template_id: str | int | None,
        name: str | None,
        language: str | None,
        change: Callable[[Template], Template],
    ) -> Template | None:
        if template_id in (None, "") and not (name and language):
            raise ValueError("name a template by template_id or by name and language")
        key = keys.templates(waba_id)
        result: list[Template | None] = [None]

        def attempt(pipe: Any) -> None:
            # Reads through the watching pipeline (immediate mode until multi()).
            field = self._field(pipe, waba_id, template_id, name, language)
            raw = pipe.hget(key, field) if field else None
            if not raw:
                result[0] = None
                return
            updated = change(_decode(raw))
            pipe.multi()
            pipe.hset(key, field, _encode(updated))
            result[0] = updated

        # WATCH both hashes: a sync or another patch in between makes EXEC fail and attempt() run again.
        self.store.transaction(attempt, key, keys.template_ids(waba_id))
        if result[0] is None:
            logger.info("template update for an unknown template waba=%s id=%s name=%s", waba_id, template_id, name)
        return result[0]
