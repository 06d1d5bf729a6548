"""schemathesis, driven by our own OpenAPI document (``web/openapi.yaml``, served at
/openapi.yaml), over every operation in it: no 5xx, and every answer conforms to the
document (status code, content type, headers, body schema), for conforming and for
hostile requests alike. Most webhook calls carry a real secret, so bodies reach the
parsing code; another run sets METRICS_TOKEN, so /metrics answers 401 too."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
import yaml
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.web.ops import OPENAPI
from cobot_sevdesk.wsgi import application

#: A disconnected space answers 410 whatever the body (Cobot must switch the webhook
#: off): for hostile bodies that is a refusal too, besides schemathesis' usual ones.
REJECTED = [400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 422]
config = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTED}}}
)
schema = schemathesis.openapi.from_path(OPENAPI, config=config)
schema.app = application  # calls go through our WSGI application in-process

pytestmark = pytest.mark.django_db(transaction=True)  # each WSGI call closes the connection

#: Every check schemathesis has for single calls but one that does not fit an
#: endpoint authenticated by a secret in its path: "positive data" (a body that
#: conforms) with a random secret is rightly answered 404, not 2xx.
EXCLUDED = [checks.positive_data_acceptance]


def make_space(subdomain: str, status: str = Space.Status.ACTIVE) -> Space:
    space = Space(
        subdomain=subdomain, name=subdomain, cobot_space_id=f"space-{subdomain}", status=status
    )
    space.cobot_token = "c" * 40
    space.sevdesk_token = "s" * 32
    space.save()
    return space


@pytest.fixture
def spaces(settings: Any) -> list[Space]:
    """A space whose Cobot URL is the document's example (so that one is recorded),
    and a disconnected one (410)."""
    settings.COBOT_SPACE_URL = "https://{subdomain}.cobot.me"
    return [make_space("co-up"), make_space("gone", Space.Status.DISCONNECTED)]


def test_the_document_is_served_and_covers_every_machine_endpoint() -> None:
    document = yaml.safe_load(Client().get("/openapi.yaml").content)
    assert document == yaml.safe_load(OPENAPI.read_text())
    assert set(document["paths"]) == {
        "/hooks/{secret}/{event}/",
        "/healthz",
        "/metrics",
        "/openapi.yaml",
    }


@schema.include(path_regex="^/hooks/").parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_webhook_answers_conform_and_are_never_5xx(case: Any, spaces: list[Space]) -> None:
    # Two in three calls carry a real secret, so bodies reach the parsing code.
    which = hash(case.path_parameters.get("secret", "")) % 3
    if which < len(spaces):
        case.path_parameters["secret"] = spaces[which].webhook_secret
    case.call_and_validate(excluded_checks=EXCLUDED)


@schema.include(path_regex="^/(healthz|metrics|openapi)").parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_operator_endpoints_conform(case: Any, spaces: list[Space]) -> None:
    case.call_and_validate(excluded_checks=EXCLUDED)


@schema.include(path_regex="^/metrics").parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_metrics_behind_a_token_conform(case: Any, settings: Any) -> None:
    settings.METRICS_TOKEN = "scrape-token"
    response = case.call_and_validate(excluded_checks=EXCLUDED)
    assert response.status_code == (401 if case.method == "GET" else 405)
