"""Webhook secrets: stored encrypted and looked up by their hash (no decryption per
webhook), re-encrypted by ``rotate-keys``, rotated by a command that moves the Cobot
subscriptions to the new secret, and rotated when a disconnected space is connected
again. The migration moves existing plain-text secrets into the new form."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from cobot_sevdesk import crypto
from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.subscriptions import ensure_subscriptions
from tests.processes import wait_until
from tests.web.test_pages import connected_admin, sevdesk_token  # noqa: F401 (fixture)
from tests.world import World, make_world


def deliver(world: World, secret: str, invoice_id: str = "inv-1") -> int:
    url = f"{world.boxes.cobot.base_url}/space/{world.subdomain}/api/invoices/{invoice_id}"
    return int(
        Client()
        .post(f"/hooks/{secret}/created_invoice/", {"url": url}, content_type="application/json")
        .status_code
    )


def space_row(space: Space) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Space._meta.db_table} WHERE id = %s", [space.pk])  # noqa: S608
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


@pytest.mark.django_db
def test_the_secret_is_stored_only_encrypted_and_webhooks_never_decrypt_it(
    sandboxes: Sandboxes, monkeypatch: Any
) -> None:
    world = make_world(sandboxes)
    secret = world.space.webhook_secret
    row = space_row(world.space)
    assert not any(secret in str(value) for value in row.values())
    assert row["webhook_key"] == hashlib.sha256(secret.encode()).hexdigest()
    assert crypto.decrypt(row["webhook_secret_encrypted"]) == secret

    def no_decryption(ciphertext: str) -> str:
        raise AssertionError("decrypted on the webhook path")

    monkeypatch.setattr(crypto, "decrypt", no_decryption)
    assert deliver(world, secret) == 202
    assert deliver(world, secret, "inv-2") == 202  # cached space
    assert deliver(world, secret[:-1] + ("A" if secret[-1] != "A" else "B")) == 404


@pytest.mark.django_db(transaction=True)
def test_rotation_moves_the_subscriptions_and_cobot_delivers_to_the_new_secret(
    sandboxes: Sandboxes, live_server: Any, settings: Any, capsys: Any
) -> None:
    settings.PUBLIC_URL = live_server.url
    world = make_world(sandboxes)
    ensure_subscriptions(SpaceContext(world.space))
    old_secret = world.space.webhook_secret
    old_ids = {s["id"] for s in sandboxes.cobot.space("co-up")["subscriptions"]}
    assert len(old_ids) == len(EVENTS)

    assert f"{len(EVENTS)} Cobot subscription(s) re-created" in command(
        "rotate_webhook_secret", "co-up"
    )

    world.space.refresh_from_db()
    new_secret = world.space.webhook_secret
    assert new_secret != old_secret
    subscriptions = sandboxes.cobot.space("co-up")["subscriptions"]
    assert len(subscriptions) == len(EVENTS) and not old_ids & {s["id"] for s in subscriptions}
    assert all(
        s["callback_url"].startswith(f"{live_server.url}/hooks/{new_secret}/")
        for s in subscriptions
    )
    # The old secret is dead; the periodic check is due now to catch up on the gap.
    assert deliver(world, old_secret) == 404
    assert world.space.reconcile_due_at is not None
    assert world.space.reconcile_due_at <= timezone.now()
    # Cobot's next webhook reaches us under the new secret.
    invoice = world.invoice()
    wait_until(
        lambda: LedgerItem.objects.filter(cobot_id=invoice["id"]).exists(),
        timeout=10,
        message="the webhook recorded",
    )


@pytest.mark.django_db
def test_a_rotation_cobot_refuses_is_repaired_by_the_periodic_check(
    sandboxes: Sandboxes, settings: Any, capsys: Any
) -> None:
    settings.PUBLIC_URL = "https://addon.example"
    world = make_world(sandboxes)
    ensure_subscriptions(SpaceContext(world.space))
    sandboxes.cobot.fault("/api/subscriptions$", method="POST", status=503, times=None)
    with pytest.raises(CommandError, match="the old one no longer works"):
        call_command("rotate_webhook_secret", "co-up")
    world.space.refresh_from_db()
    assert world.space.webhooks_ok is False
    sandboxes.cobot.clear_faults()
    ensure_subscriptions(SpaceContext(world.space))  # what the periodic check runs
    urls = {s["callback_url"] for s in sandboxes.cobot.space("co-up")["subscriptions"]}
    assert len(urls) == len(EVENTS)
    assert all(
        u.startswith(f"https://addon.example/hooks/{world.space.webhook_secret}/") for u in urls
    )


def command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_rotating_an_unconnected_space_only_changes_the_secret(
    sandboxes: Sandboxes, capsys: Any
) -> None:
    space = Space(subdomain="new", name="New", cobot_space_id="space-new")
    space.save()
    before = space.webhook_key
    assert "has no subscriptions now" in command("rotate_webhook_secret", "new")
    space.refresh_from_db()
    assert space.webhook_key != before


@pytest.mark.django_db
def test_reconnecting_a_disconnected_space_gives_it_a_new_secret(
    oauth: Sandboxes,
    sevdesk_token: str,  # noqa: F811 (fixture)
) -> None:
    client = connected_admin(oauth, sevdesk_token)
    space = Space.objects.get(subdomain="co-up")
    first = space.webhook_secret
    assert client.post("/s/co-up/disconnect/").status_code == 302
    assert client.post("/spaces/co-up/connect/").status_code == 302
    space.refresh_from_db()
    assert space.status == Space.Status.ACTIVE and space.webhook_secret != first
    world = World(oauth, space, "co-up", sevdesk_token, "", "")
    assert deliver(world, first) == 404
    client.post(
        "/s/co-up/settings/",
        {"sevdesk_token": sevdesk_token, "cost_centre_number": "", "due_days": "0"},
    )
    urls = {s["callback_url"] for s in oauth.cobot.space("co-up")["subscriptions"]}
    assert len(urls) == len(EVENTS) and all(f"/hooks/{space.webhook_secret}/" in u for u in urls)
    assert deliver(world, space.webhook_secret) == 202
    # Connecting a space that is not disconnected keeps its secret.
    client.post("/spaces/co-up/connect/")
    space.refresh_from_db()
    assert f"/hooks/{space.webhook_secret}/" in next(iter(urls))


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_secrets_and_keeps_their_keys() -> None:
    call_command("migrate", "sync", "0004", verbosity=0)
    secret = "plain-text-secret-of-an-old-installation-1234"
    key = hashlib.sha256(secret.encode()).hexdigest()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sync_space (subdomain, name, cobot_space_id, api2_id, country_code, "
            "language, cobot_token_encrypted, sevdesk_token_encrypted, cost_centre_number, "
            "due_days, small_business, webhook_secret, webhook_key, status, pause_reason, "
            "created_at, updated_at, lease_owner, wake_pending, cobot_tat) VALUES "
            "('old', 'Old', 'space-old', '', 'DE', 'de', '', '', '', 0, %s, %s, %s, "
            "'active', '', %s, %s, '', %s, 0)",
            [False, secret, key, now, now, False],
        )
    try:
        call_command("migrate", "sync", verbosity=0)
        space = Space.objects.get(subdomain="old")
        assert space.webhook_key == key and space.webhook_secret == secret
        assert secret not in str(space_row(space))
        # And back: the plain-text column returns with the secret in it.
        call_command("migrate", "sync", "0004", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT webhook_secret FROM sync_space WHERE subdomain = 'old'")
            assert cursor.fetchone()[0] == secret
    finally:
        call_command("migrate", "sync", verbosity=0)
