"""Settings → WhatsApp templates: each WABA's templates with status and rejection reasons; new, edit, delete.

The model, rules and Graph calls are adapter/templates'; after each change the WABA is synced again so
the list shows what Meta now holds.
"""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.wrappers import Response

from adapter.console.template_forms import CATEGORIES, TemplateForm
from adapter.errors import BadRequest, ExternalApiError, NotFound, RequestError
from adapter.services import Services
from adapter.store.channels import Channel
from adapter.templates.management import create_template, delete_template, edit_template
from adapter.templates.model import Template
from adapter.templates.rejections import explain_rejection
from adapter.templates.repository import TemplateRepository
from adapter.templates.sync import sync_waba
from adapter.web.console.support import blueprint, done, page, svc


def _wabas(services: Services) -> dict[str, list[Channel]]:
    wabas: dict[str, list[Channel]] = {}
    for channel in services.channels.all():
        wabas.setdefault(channel.waba_id, []).append(channel)
    return wabas


def _channel_of(services: Services, waba_id: str) -> Channel:
    channels = _wabas(services).get(waba_id)
    if not channels:
        raise NotFound(f"no connected number belongs to WhatsApp Business Account {waba_id}")
    return channels[0]


def _repository(services: Services) -> TemplateRepository:
    return TemplateRepository(services.store, services.clock)


def _template(services: Services, waba_id: str, template_id: str) -> Template:
    template = _repository(services).get_by_id(waba_id, template_id)
    if template is None:
        raise NotFound(f"no template {template_id} in WhatsApp Business Account {waba_id}; sync templates first")
    return template


def _sync(services: Services, channel: Channel) -> None:
    sync_waba(services.graph, _repository(services), channel.graph_access_token, channel.waba_id)


PICKER_CANNOT_FILL = (
    "Not offered in the helpdesk's template picker: its header has a variable, which the picker cannot fill. "
    "Agents send it from the WhatsApp panel in the conversation's sidebar."
)


def _explanation(template: Template) -> str:
    if template.status == "REJECTED":
        return explain_rejection(template.rejected_reason, template.rejection_recommendation,
                                 detail=template.rejection_detail)  # fmt: skip
    if template.is_sendable and not template.picker_can_fill:
        return PICKER_CANNOT_FILL
    return template.blocked_reason() or ""


@blueprint.get("/templates")
def templates() -> tuple[str, int]:
    services = svc()
    wabas = _wabas(services)
    waba_id = request.args.get("waba") or next(iter(wabas), "")
    if waba_id and waba_id not in wabas:
        raise NotFound(f"no connected number belongs to WhatsApp Business Account {waba_id}")
    repository = _repository(services)
    rows = [{"t": t, "why": _explanation(t)} for t in repository.list(waba_id)] if waba_id else []
    return page("templates.html", wabas=wabas, waba_id=waba_id, rows=rows,
                synced_at=repository.synced_at(waba_id) if waba_id else None)  # fmt: skip


@blueprint.post("/templates/sync")
def templates_sync() -> Response:
    services = svc()
    waba_id = request.form.get("waba", "")
    try:
        _sync(services, _channel_of(services, waba_id))
    except ExternalApiError as exc:
        raise BadRequest(f"Meta's templates could not be read: {exc.explanation}") from None
    return done("Templates synced from Meta.", "console.templates", waba=waba_id)


def _form_page(mode: str, waba_id: str, form: TemplateForm, status: int = 200, **extra: Any) -> tuple[str, int]:
    return page("template_form.html", status, mode=mode, waba_id=waba_id, form=form, categories=CATEGORIES, **extra)


def _errors(exc: RequestError | ExternalApiError) -> list[str]:
    if isinstance(exc, RequestError):
        details = exc.details if isinstance(exc.details, list) else []
        return [str(d) for d in details] or [exc.message]
    return [f"Meta refused it: {exc.explanation}" + (f" ({exc.message})" if exc.message not in exc.explanation else "")]


@blueprint.route("/templates/new", methods=["GET", "POST"])
def template_new() -> Response | tuple[str, int]:
    services = svc()
    waba_id = request.values.get("waba", "")
    channel = _channel_of(services, waba_id)
    if request.method == "GET":
        return _form_page("new", waba_id, TemplateForm())
    form = TemplateForm.from_mapping(request.form)
    try:
        create_template(services.graph, channel.graph_access_token, waba_id, form.definition())
        _sync(services, channel)
    except (RequestError, ExternalApiError) as exc:
        return _form_page("new", waba_id, form, 400, errors=_errors(exc))
    return done(f"Template {form.name} submitted: Meta reviews it, usually within minutes, sometimes a day.",
                "console.templates", waba=waba_id)  # fmt: skip


@blueprint.route("/templates/<waba_id>/<template_id>/edit", methods=["GET", "POST"])
def template_edit(waba_id: str, template_id: str) -> Response | tuple[str, int]:
    services = svc()
    channel = _channel_of(services, waba_id)
    template = _template(services, waba_id, template_id)
    if request.method == "GET":
        return _form_page("edit", waba_id, TemplateForm.from_template(template), template=template)
    form = TemplateForm.from_mapping({**request.form, "name": template.name, "language": template.language})
    try:
        edit_template(services.graph, channel.graph_access_token, template_id, form.edit())
        _sync(services, channel)
    except (RequestError, ExternalApiError) as exc:
        return _form_page("edit", waba_id, form, 400, errors=_errors(exc), template=template)
    return done(f"Template {template.name} changed and sent back to Meta for review.", "console.templates",
                waba=waba_id)  # fmt: skip


@blueprint.route("/templates/<waba_id>/<template_id>/delete", methods=["GET", "POST"])
def template_delete(waba_id: str, template_id: str) -> Response | tuple[str, int]:
    services = svc()
    channel = _channel_of(services, waba_id)
    template = _template(services, waba_id, template_id)
    if request.method == "GET":
        return page("template_delete.html", waba_id=waba_id, template=template)
    try:
        delete_template(services.graph, channel.graph_access_token, waba_id, template.name, template.id)
    except ExternalApiError as exc:
        raise BadRequest(f"Meta did not delete it: {exc.explanation}") from None
    _repository(services).remove(waba_id, template_id=template.id)
    return done(f"Template {template.name} ({template.language}) deleted.", "console.templates", waba=waba_id)
