"""Issuing, checking and revoking API keys.

A token reads ``slm_<prefix>_<secret>``: the prefix (eight letters and digits) finds the key,
the whole token's SHA-256 proves it (tokens carry 256 random bits, so a fast hash is enough;
the comparison takes constant time). Issuing and revoking are written to the audit log.
"""

import datetime
import hashlib
import hmac
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from salama.core import audit
from salama.organisations.choices import Role
from salama.organisations.models import Membership
from salama.sharing.models import ApiKey

TOKEN_PREFIX = "slm_"  # noqa: S105 (not a secret: what every token starts with)
# last_used_at is written at most this often, not on every request.
TOUCH_EVERY = datetime.timedelta(minutes=1)


class ApiKeyError(Exception):
    """A key cannot be issued or revoked as asked; the message says why."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(organisation, name: str, *, by=None, days: int | None = 365) -> tuple[ApiKey, str]:
    """Make a key for ``organisation``; return it and its token (shown only now)."""
    name = name.strip()
    if not name:
        raise ApiKeyError("Give the key a name that says who uses it (e.g. 'NRC data hub').")
    if days is not None and days < 1:
        raise ApiKeyError("A key must be valid for at least one day (or give no expiry).")
    now = timezone.now()
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(4)
            if not ApiKey.objects.filter(prefix=prefix).exists():
                break
        token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        user = get_user_model().objects.create_user(username=f"api-key-{prefix}", password=None)
        Membership.objects.create(user=user, organisation=organisation, role=Role.ANALYST)
        key = ApiKey.objects.create(
            organisation=organisation,
            name=name[:100],
            prefix=prefix,
            token_hash=_hash(token),
            user=user,
            created_by=by if getattr(by, "pk", None) else None,
            created_at=now,
            expires_at=now + datetime.timedelta(days=days) if days else None,
        )
        audit.record("api_key:issue", actor=by, obj=key, after=_summary(key))
    return key, token


def authenticate(token: str) -> ApiKey | None:
    """The usable key ``token`` belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or token.count("_") < 2:
        return None
    prefix = token[len(TOKEN_PREFIX) :].split("_", 1)[0]
    key = ApiKey.objects.usable().select_related("user", "organisation").filter(prefix=prefix)
    key = key.first()
    if key is None or not hmac.compare_digest(key.token_hash, _hash(token)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def revoke(key: ApiKey, *, by=None) -> ApiKey:
    if key.revoked_at:
        raise ApiKeyError(f"Key {key.prefix} was already revoked on {key.revoked_at:%Y-%m-%d}.")
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        key.user.is_active = False
        key.user.save(update_fields=["is_active"])
        audit.record("api_key:revoke", actor=by, obj=key, after=_summary(key))
    return key


def _summary(key: ApiKey) -> dict:
    return {
        "organisation": key.organisation.acronym,
        "name": key.name,
        "prefix": key.prefix,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }
