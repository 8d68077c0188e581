"""An ActiveStorage look-alike: ``/rails/active_storage/…/redirect/<key>/<filename>`` → 302 → ``/blobs/<key>``."""

from __future__ import annotations

from flask import Blueprint, Response, request

from tests.simulators.helpdesk_api.common import helpdesk
from tests.simulators.helpdesk_state import not_found

blueprint = Blueprint("attachments", __name__)


@blueprint.get("/rails/active_storage/blobs/redirect/<key>/<path:filename>")
@blueprint.get("/rails/active_storage/representations/redirect/<key>/<path:filename>")
def blob_redirect(key: str, filename: str) -> Response:
    state = helpdesk()
    with state.lock:
        if key not in state.blobs:
            raise not_found()
    # ActiveStorage::SetCurrent: the disk service's URL is on the host the redirect was asked on (FRONTEND_URL's).
    return Response(status=302, headers={"Location": f"{request.host_url.rstrip('/')}/blobs/{key}"})


@blueprint.get("/blobs/<key>")
def blob_data(key: str) -> Response:
    state = helpdesk()
    with state.lock:
        if key not in state.blobs:
            raise not_found()
        att = state.attachments[state.blobs[key]]
        data, mime, filename = att["data"], att["content_type"], att["url_filename"]
    return Response(data, mimetype=mime, headers={"Content-Disposition": f"inline; filename*=UTF-8''{filename}"})
