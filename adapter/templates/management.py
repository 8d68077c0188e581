"""Create, edit and delete templates on Meta, after the local review rules (validation.py) pass.

Local checks first because a Meta rejection costs a review cycle and creations are limited to 100 per
WABA per hour; what Graph still refuses comes back as GraphApiError from the client.
"""

from __future__ import annotations

import logging
from typing import Any

from adapter.errors import BadRequest
from adapter.meta.client import GraphClient
from adapter.templates.validation import validate_definition, validate_edit

logger = logging.getLogger(__name__)

CREATE_FIELDS = ("name", "category", "language", "parameter_format", "components", "message_send_ttl_seconds")
EDIT_FIELDS = ("category", "components", "message_send_ttl_seconds", "parameter_format")


def create_template(graph: GraphClient, token: str, waba_id: str, definition: dict[str, Any]) -> dict[str, Any]:
    """POST /{waba-id}/message_templates (Message Templates API: create). Returns {id, status, category}."""
    errors = validate_definition(definition)
    if errors:
        raise BadRequest("invalid template", details=errors)
    body = {k: definition[k] for k in CREATE_FIELDS if k in definition}
    body["category"] = str(definition["category"]).upper()  # the API wants the enum spelling
    if "parameter_format" in body:
        body["parameter_format"] = str(body["parameter_format"]).upper()
    answer = graph.post(f"/{waba_id}/message_templates", token, body)
    logger.info("created template name=%s language=%s waba=%s id=%s status=%s", body["name"], body["language"],
                waba_id, answer.get("id"), answer.get("status"))  # fmt: skip
    return answer


def edit_template(graph: GraphClient, token: str, template_id: str, definition: dict[str, Any]) -> dict[str, Any]:
    """POST /{template-id} (Message Templates API: edit). Components replace all existing ones.

    Name and language cannot change; an edit sends the template back to review (status PENDING).
    """
    errors = validate_edit(definition)
    if errors:
        raise BadRequest("invalid template", details=errors)
    body = {k: definition[k] for k in EDIT_FIELDS if k in definition}
    if "category" in body:
        body["category"] = str(body["category"]).upper()
    if "parameter_format" in body:
        body["parameter_format"] = str(body["parameter_format"]).upper()
    answer = graph.post(f"/{template_id}", token, body)
    logger.info("edited template id=%s", template_id)
    return answer


def delete_template(
    graph: GraphClient, token: str, waba_id: str, name: str, template_id: str | None = None
) -> dict[str, Any]:
    """DELETE /{waba-id}/message_templates?name=… (every language) or with hsm_id (one language).

    A deleted approved name cannot be reused for 30 days; DISABLED templates cannot be deleted.
    """
    if not name:
        raise BadRequest("invalid template", details=["name is required to delete a template"])
    params = {"name": name}
    if template_id:
        params["hsm_id"] = str(template_id)
    answer = graph.delete(f"/{waba_id}/message_templates", token, params)
    logger.info("deleted template name=%s id=%s waba=%s", name, template_id or "*", waba_id)
    return answer
