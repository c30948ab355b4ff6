"""Personal numbers encrypted at rest (ARCHITECTURE rule 5): AES-256-GCM with a key ring, and a
keyed HMAC "blind index" for exact lookup and uniqueness.

Keys come from the environment (``baohe/settings.py``):

- ``PERSONAL_DATA_KEYS``: comma-separated ``id:key`` pairs, newest first; each key is base64
  (standard or URL-safe) of at least 32 random bytes. The newest encrypts, every key decrypts,
  so a key is rotated by putting a new one in front and running ``manage.py
  rotate_personal_data`` (which re-encrypts every row under the newest key); the old key can go
  once that has finished.
- ``BLIND_INDEX_KEY``: the HMAC key for the blind index (same format, one key). Changing it
  means running ``rotate_personal_data`` too: it recomputes every index from the decrypted
  values; until it has finished, lookups by number miss the rows not yet done.

A stored value is ``<key id>$<base64url(12-byte nonce ‖ ciphertext ‖ 16-byte tag)>``. The
associated data is the column's name (``communities.resident.mobile``), so a ciphertext copied
into another column does not decrypt. A value that does not decrypt (tampered, truncated, a
key id not in the ring) raises :class:`DecryptionError`: never a silent wrong number.

The blind index is ``HMAC-SHA256(BLIND_INDEX_KEY, "<kind>:<normalised value>")`` in hex, with
kind ``mobile`` or ``id_number`` (so a resident's and a user's mobile index are equal and can
be joined on), normalised by :func:`normalise`; the empty value has no index (NULL).

With ``DEBUG`` on and nothing set, settings derive both keys from ``SECRET_KEY`` (development
and tests only; with ``DEBUG`` off settings refuse to start without them, and ``check --deploy``
warns while they are derived: ``baohe.checks``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

NONCE_BYTES = 12
SEPARATOR = "$"
MIN_KEY_BYTES = 32


class DecryptionError(Exception):
    """A stored value that does not decrypt with any key of the ring (tampered or unknown key)."""


def _decode_key(text: str, name: str) -> bytes:
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name}: a key must be base64 of {MIN_KEY_BYTES}+ random bytes") from None
    if len(raw) < MIN_KEY_BYTES:
        raise ImproperlyConfigured(f"{name}: a key must be base64 of at least {MIN_KEY_BYTES} random bytes")
    # AES-256 wants exactly 32 bytes: longer keys are condensed (SHA-256 keeps their entropy).
    return raw if len(raw) == MIN_KEY_BYTES else hashlib.sha256(raw).digest()


def parse_key_ring(value: str) -> list[tuple[str, bytes]]:
    """``"k2:…,k1:…"`` → ``[("k2", key), ("k1", key)]`` (newest first); ImproperlyConfigured when wrong."""
    ring: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        key_id, sep, key = part.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id or not key_id.isascii() or not key_id.isalnum():
            raise ImproperlyConfigured("PERSONAL_DATA_KEYS: each entry is id:base64-key, the id letters and digits")
        if any(existing == key_id for existing, _ in ring):
            raise ImproperlyConfigured(f"PERSONAL_DATA_KEYS: key id {key_id!r} appears twice")
        ring.append((key_id, _decode_key(key, "PERSONAL_DATA_KEYS")))
    if not ring:
        raise ImproperlyConfigured("PERSONAL_DATA_KEYS is empty")
    return ring


@dataclass(frozen=True)
class Keys:
    ring: tuple[tuple[str, AESGCM], ...]  # newest first
    by_id: dict[str, AESGCM]
    index_key: bytes

    @property
    def current_id(self) -> str:
        return self.ring[0][0]


@lru_cache(maxsize=1)
def keys() -> Keys:
    """The key ring and the blind-index key from settings (cached; reset when settings change)."""
    ring = parse_key_ring(settings.PERSONAL_DATA_KEYS)
    if not settings.BLIND_INDEX_KEY:
        raise ImproperlyConfigured("Set BLIND_INDEX_KEY: personal numbers cannot be indexed without a key.")
    index_key = _decode_key(settings.BLIND_INDEX_KEY, "BLIND_INDEX_KEY")
    aeads = tuple((key_id, AESGCM(key)) for key_id, key in ring)
    return Keys(ring=aeads, by_id=dict(aeads), index_key=index_key)


@receiver(setting_changed)
def _reset_keys(*, setting, **kwargs):
    if setting in ("PERSONAL_DATA_KEYS", "BLIND_INDEX_KEY"):
        keys.cache_clear()


def encrypt(plaintext: str, *, context: str) -> str:
    """``plaintext`` encrypted under the newest key, bound to ``context`` (the column's name)."""
    if not plaintext:
        return ""
    ring = keys()
    key_id, aead = ring.ring[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = aead.encrypt(nonce, plaintext.encode(), context.encode())
    return f"{key_id}{SEPARATOR}{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def key_id_of(stored: str) -> str:
    """The id of the key a stored value was encrypted with ("" for the empty value)."""
    return stored.partition(SEPARATOR)[0] if stored else ""


def decrypt(stored: str, *, context: str) -> str:
    """The plaintext of a value written by :func:`encrypt`; DecryptionError when it does not decrypt."""
    if not stored:
        return ""
    key_id, sep, body = stored.partition(SEPARATOR)
    if not sep:
        raise DecryptionError(f"{context}: the stored value is not encrypted (no key id)")
    aead = keys().by_id.get(key_id)
    if aead is None:
        raise DecryptionError(f"{context}: key {key_id!r} is not in PERSONAL_DATA_KEYS")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionError(f"{context}: the stored value is not valid base64") from None
    if len(raw) < NONCE_BYTES + 16:
        raise DecryptionError(f"{context}: the stored value is truncated")
    try:
        return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
    except InvalidTag:
        raise DecryptionError(f"{context}: the stored value was altered or belongs to another column") from None


#: The ``mobile_tail`` index holds the last digits of a mobile number, for search by 尾号.
TAIL_DIGITS = 4


def normalise(kind: str, value: str) -> str:
    """The form a number is indexed in: stripped; an ID number upper-case (its final x/X);
    for ``mobile_tail`` the last :data:`TAIL_DIGITS` digits (empty for a shorter number)."""
    value = (value or "").strip()
    if kind == "mobile_tail":
        return value[-TAIL_DIGITS:] if len(value) >= TAIL_DIGITS else ""
    return value.upper() if kind == "id_number" else value


def blind_index(kind: str, value: str | None) -> str | None:
    """HMAC-SHA256 of the normalised value (hex), or None for an empty value."""
    value = normalise(kind, value or "")
    if not value:
        return None
    return hmac.new(keys().index_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def encrypter(context: str):
    """A fast ``encrypt(plaintext) -> stored`` for one column (bulk loading: the key looked up once)."""
    key_id, aead = keys().ring[0]
    prefix, associated = f"{key_id}{SEPARATOR}", context.encode()
    seal, b64, urandom = aead.encrypt, base64.urlsafe_b64encode, os.urandom

    def encrypt_one(plaintext: str) -> str:
        if not plaintext:
            return ""
        nonce = urandom(NONCE_BYTES)
        return prefix + b64(nonce + seal(nonce, plaintext.encode(), associated)).decode().rstrip("=")

    return encrypt_one


def indexer(kind: str):
    """A fast ``blind_index(kind, value)`` for one kind (bulk loading): None for an empty value."""
    template = hmac.new(keys().index_key, f"{kind}:".encode(), hashlib.sha256)
    upper, tail = kind == "id_number", kind == "mobile_tail"

    def index_one(value: str) -> str | None:
        value = (value or "").strip()
        if tail:
            value = value[-TAIL_DIGITS:] if len(value) >= TAIL_DIGITS else ""
        if not value:
            return None
        digest = template.copy()
        digest.update((value.upper() if upper else value).encode())
        return digest.hexdigest()

    return index_one
