"""`responses` where the API clients' calls go: their transport (adapter.http_transport), not urllib3's."""

from __future__ import annotations

import responses

from adapter.http_transport import TRANSPORT_SEND


def transport_mock(*, assert_all_requests_are_fired: bool = False) -> responses.RequestsMock:
    return responses.RequestsMock(target=TRANSPORT_SEND, assert_all_requests_are_fired=assert_all_requests_are_fired)
