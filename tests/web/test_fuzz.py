"""schemathesis, driven by our own OpenAPI document, finds no 5xx on the webhook
endpoint: neither with random secrets nor with a valid one and random bodies."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.web.ops import OPENAPI
from cobot_sevdesk.wsgi import application

schema = schemathesis.openapi.from_path(OPENAPI)
schema.app = application  # calls go through our WSGI application in-process

pytestmark = pytest.mark.django_db(transaction=True)  # each WSGI call closes the connection


@pytest.fixture
def space() -> Space:
    space = Space(subdomain="fuzz", name="Fuzz", cobot_space_id="space-fuzz", api2_id="f" * 32)
    space.cobot_token = "c" * 40
    space.sevdesk_token = "s" * 32
    space.save()
    return space


@schema.include(path_regex="^/hooks/").parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_webhook_never_answers_5xx(case: Any, space: Space) -> None:
    # Half of the cases carry the real secret, so bodies reach the parsing code.
    if hash(case.path_parameters.get("secret", "")) % 2:
        case.path_parameters["secret"] = space.webhook_secret
    response = case.call()
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 202, 400, 404, 405, 410), response.status_code


@schema.include(path_regex="^/healthz").parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_health_matches_its_schema(case: Any) -> None:
    case.call_and_validate()
