"""Encryption of secrets at rest (Cobot and sevDesk tokens) with ``MultiFernet``.

``FERNET_KEYS`` holds one or more keys, newest first. New values are encrypted with
the first key; any listed key can decrypt. Rotation: put a new key in front, run
``cobot-sevdesk rotate-keys`` (re-encrypts every stored secret with the new key),
then remove the old key.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cobot_sevdesk.logs import remember_secret


def generate_key() -> str:
    return Fernet.generate_key().decode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "FERNET_KEYS is not set: secrets cannot be stored. "
            "Generate a key with `cobot-sevdesk generate-key`."
        )
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FERNET_KEYS holds an invalid key: {exc}") from None


def fernet() -> MultiFernet:
    return _fernet(tuple(k.strip() for k in settings.FERNET_KEYS if k.strip()))


def encrypt(plaintext: str) -> str:
    remember_secret(plaintext)  # a stored secret is redacted from this process's logs
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        plaintext = fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FERNET_KEYS: a key was removed too early."
        ) from None
    remember_secret(plaintext)
    return plaintext


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the newest key."""
    return fernet().rotate(ciphertext.encode()).decode()


def mask(secret: str) -> str:
    """What the UI may show of a secret: its last four characters."""
    if len(secret) <= 8:
        return "••••"
    return "••••" + secret[-4:]
