"""Sync: read every template of a WABA from Graph (all pages) and store the result as the new catalogue."""

from __future__ import annotations

import logging
from typing import Any

from adapter.meta.client import GraphClient
from adapter.templates.model import Template
from adapter.templates.repository import TemplateRepository

logger = logging.getLogger(__name__)

# Fields asked for explicitly: the default set lacks rejected_reason, quality_score and correct_category.
FIELDS = (
    "id,name,language,status,category,sub_category,parameter_format,components,"
    "rejected_reason,quality_score,correct_category"
)
# A verified business may hold 6,000 templates; this bound only stops a paging loop that never ends.
MAX_PAGES = 1000


def fetch_all_templates(graph: GraphClient, token: str, waba_id: str, page_size: int = 100) -> list[Template]:
    """GET /{waba-id}/message_templates (Message Templates API), following `paging.next` to the last page."""
    page: dict[str, Any] = graph.get(f"/{waba_id}/message_templates", token, {"fields": FIELDS, "limit": page_size})
    templates: list[Template] = []
    seen_pages: set[str] = set()
    for _ in range(MAX_PAGES):
        for item in page.get("data") or []:
            try:
                templates.append(Template.from_graph(item))
            except (ValueError, TypeError, AttributeError):
                # One malformed item must not cost the whole catalogue; it is simply left out.
                logger.warning("skipping a template Graph returned without name or language waba=%s", waba_id)
        next_url = (page.get("paging") or {}).get("next")
        if not next_url or next_url in seen_pages or not page.get("data"):
            return templates
        seen_pages.add(next_url)
        page = graph.get(str(next_url), token)  # absolute URL that already carries fields, limit and cursor
    logger.warning("stopped reading templates after %d pages waba=%s", MAX_PAGES, waba_id)
    return templates


def sync_waba(graph: GraphClient, repository: TemplateRepository, token: str, waba_id: str) -> list[Template]:
    """Fetch every template of the WABA and make it the stored catalogue; returns what was stored."""
    templates = fetch_all_templates(graph, token, waba_id)
    repository.replace_all(waba_id, templates)
    logger.info("synced %d templates waba=%s", len(templates), waba_id)
    return templates
