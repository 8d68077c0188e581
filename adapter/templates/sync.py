"""Sync: read every template of a WABA from Graph (all pages) and store the result as the new catalogue."""

from __future__ import annotations

import logging

from adapter.meta.client import GraphClient
from adapter.templates.model import Template
from adapter.templates.repository import TemplateRepository

logger = logging.getLogger(__name__)

# Fields asked for explicitly: the default set lacks rejected_reason, quality_score and correct_category.
FIELDS = (
    "id,name,language,status,category,sub_category,parameter_format,components,"
    "rejected_reason,quality_score,correct_category"
)
def fetch_all_templates(graph: GraphClient, token: str, waba_id: str, page_size: int = 100) -> list[Template]:
    """GET /{waba-id}/message_templates (Message Templates API), every page."""
    templates: list[Template] = []
    for item in graph.get_all(f"/{waba_id}/message_templates", token, {"fields": FIELDS, "limit": page_size}):
        try:
            templates.append(Template.from_graph(item))
        except (ValueError, TypeError, AttributeError):
            # One malformed item must not cost the whole catalogue; it is simply left out.
            logger.warning("skipping a template Graph returned without name or language waba=%s", waba_id)
    return templates


def sync_waba(graph: GraphClient, repository: TemplateRepository, token: str, waba_id: str) -> list[Template]:
    """Fetch every template of the WABA and make it the stored catalogue; returns what was stored."""
    templates = fetch_all_templates(graph, token, waba_id)
    repository.replace_all(waba_id, templates)
    logger.info("synced %d templates waba=%s", len(templates), waba_id)
    return templates
