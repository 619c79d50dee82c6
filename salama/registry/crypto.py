"""Authenticated encryption of victims' identities, with keys held outside the database.

``SALAMA_ENCRYPTION_KEY`` (or ``SALAMA_ENCRYPTION_KEY_FILE``) holds one or more keys, newest
first, separated by commas. Each key is either ``<key-id>:<urlsafe base64 of 32 bytes>`` or the
base64 alone, whose key id is then the first 8 hex digits of the SHA-256 of the key bytes.
New ciphertexts always use the first (newest) key; older keys stay listed until
``salama registry rotate-key`` has re-encrypted every record under the newest.

AES-256-GCM with a fresh 96-bit nonce per encryption; the stored value is ``nonce ‖ ciphertext``
and the key id sits in its own column beside it. The associated data names the record
(``salama:registry:<purpose>:<record id>``), so a ciphertext copied onto another record, or
another kind of record, fails to decrypt instead of revealing someone else's identity.

Without a configured key (possible only in development: production refuses to start without
one), a development key is created once in ``DATA_DIR/registry-dev.key`` with mode 0600 — on
disk beside the database, never in it.
"""

import base64
import binascii
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
DEV_KEY_FILE = "registry-dev.key"


class CryptoError(Exception):
    """A ciphertext that cannot be opened: unknown key, wrong record, or tampered with."""


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes

    def __repr__(self):  # never print key material, even in a traceback
        return f"Key(id={self.id!r})"


def _decode_secret(text: str, position: int) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ImproperlyConfigured(
            f"SALAMA_ENCRYPTION_KEY: key {position} is not valid urlsafe base64"
        ) from None
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"SALAMA_ENCRYPTION_KEY: key {position} decodes to {len(raw)} bytes; "
            f"it must be {KEY_BYTES} (AES-256). Make one with `salama registry new-key`."
        )
    return raw


def parse_keys(text: str) -> list[Key]:
    """The keys in ``text``, newest first; a clear error for anything malformed."""
    items = [item.strip() for item in (text or "").split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured("SALAMA_ENCRYPTION_KEY holds no key")
    keys: list[Key] = []
    for position, item in enumerate(items, start=1):
        if ":" in item:
            key_id, _, encoded = item.partition(":")
            if not KEY_ID_PATTERN.match(key_id):
                raise ImproperlyConfigured(
                    f"SALAMA_ENCRYPTION_KEY: key {position} has an invalid id {key_id!r} "
                    "(1–32 letters, digits, '.', '_' or '-')"
                )
            secret = _decode_secret(encoded, position)
        else:
            secret = _decode_secret(item, position)
            key_id = hashlib.sha256(secret).hexdigest()[:8]
        if any(k.id == key_id for k in keys):
            raise ImproperlyConfigured(f"SALAMA_ENCRYPTION_KEY: key id {key_id!r} appears twice")
        keys.append(Key(key_id, secret))
    return keys


def new_key_text() -> str:
    """A fresh key in the format :func:`parse_keys` reads (without an explicit id)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _development_mode() -> bool:
    # pytest-django turns settings.DEBUG off while tests run; production is recognised by
    # SALAMA_DEBUG=false, under which settings.py already refuses to start without a key.
    return settings.DEBUG or os.environ.get("SALAMA_DEBUG", "true").strip().lower() == "true"


def _dev_key_text() -> str:
    path = Path(settings.DATA_DIR) / DEV_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(new_key_text() + "\n")
    return path.read_text().strip()


@lru_cache(maxsize=8)
def _parsed(text: str) -> tuple[Key, ...]:
    return tuple(parse_keys(text))


def keyring() -> tuple[Key, ...]:
    """The configured keys, newest first."""
    text = settings.ENCRYPTION_KEYS
    if not text:
        if not _development_mode():
            raise ImproperlyConfigured("SALAMA_ENCRYPTION_KEY (or ..._FILE) must be set")
        text = _dev_key_text()
    return _parsed(text)


def current_key() -> Key:
    return keyring()[0]


def _aad(purpose: str, record_id) -> bytes:
    return f"salama:registry:{purpose}:{record_id}".encode()


def encrypt(plaintext: bytes, *, purpose: str, record_id, key: Key | None = None):
    """``(key_id, nonce ‖ ciphertext)`` of ``plaintext``, bound to the record it belongs to."""
    key = key or current_key()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key.secret).encrypt(nonce, plaintext, _aad(purpose, record_id))
    return key.id, nonce + sealed


def decrypt(key_id: str, blob: bytes, *, purpose: str, record_id) -> bytes:
    keys = {k.id: k for k in keyring()}
    key = keys.get(key_id)
    if key is None:
        raise CryptoError(
            f"encrypted with key {key_id!r}, which SALAMA_ENCRYPTION_KEY no longer lists"
        )
    blob = bytes(blob)
    if len(blob) <= NONCE_BYTES:
        raise CryptoError("ciphertext too short")
    try:
        return AESGCM(key.secret).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(purpose, record_id)
        )
    except InvalidTag:
        raise CryptoError(
            "ciphertext does not open: it was altered or belongs to another record"
        ) from None
