"""The rules of the second factor: secrets, codes, replay protection, recovery codes.

Views only call these. A TOTP code is accepted in the 30-second step it belongs to and one step
either side (phone clocks drift), and never twice: the newest accepted step is kept and codes of
that step or older are refused, so a code read over a shoulder cannot be used again.
"""

import hashlib
import hmac
import secrets

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from salama.accounts.models import RecoveryCode, SecondFactor

ISSUER = "Salama"
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# Recovery codes: 10 characters of an alphabet without look-alikes (about 50 bits each).
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def has_confirmed_factor(user) -> bool:
    return SecondFactor.objects.filter(user=user, confirmed_at__isnull=False).exists()


def start_enrolment(user) -> SecondFactor:
    """A new, unconfirmed secret for ``user`` (replacing an unconfirmed one, never a confirmed
    one: that must be turned off first, with a valid code)."""
    factor, created = SecondFactor.objects.get_or_create(
        user=user, defaults={"secret": pyotp.random_base32()}
    )
    if not created and not factor.is_confirmed:
        factor.secret = pyotp.random_base32()
        factor.last_step = 0
        factor.save(update_fields=["secret", "last_step"])
    return factor


def provisioning_uri(factor: SecondFactor) -> str:
    return pyotp.TOTP(factor.secret).provisioning_uri(
        name=factor.user.get_username(), issuer_name=ISSUER
    )


def qr_svg(factor: SecondFactor, title: str) -> str:
    """The provisioning URI as an inline SVG QR code (made here: no image service)."""
    return segno.make(provisioning_uri(factor), error="m").svg_inline(
        scale=5, title=title, border=2
    )


def _normalise(code: str) -> str:
    return "".join(str(code).split()).replace("-", "").lower()


def verify_code(user, code: str, now=None) -> bool:
    """True if ``code`` is the user's current TOTP code (±1 step), not used before."""
    code = _normalise(code)
    if not (len(code) == 6 and code.isdigit()):
        return False
    moment = now or timezone.now()
    with transaction.atomic():
        factor = SecondFactor.objects.select_for_update().filter(user=user).first()
        if factor is None:
            return False
        totp = pyotp.TOTP(factor.secret)
        current = totp.timecode(moment)
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
            if step > factor.last_step and hmac.compare_digest(totp.generate_otp(step), code):
                factor.last_step = step
                factor.save(update_fields=["last_step"])
                return True
    return False


def confirm(user, code: str) -> bool:
    """Confirm an enrolment with a first code from the app."""
    if not verify_code(user, code):
        return False
    SecondFactor.objects.filter(user=user).update(confirmed_at=timezone.now())
    return True


def _digest(code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, _normalise(code).encode(), hashlib.sha256).hexdigest()


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with new ones; return them (shown once)."""
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(RecoveryCode(user=user, digest=_digest(c)) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def use_recovery_code(user, code: str) -> bool:
    """Accept an unused recovery code once."""
    used = RecoveryCode.objects.filter(
        user=user, digest=_digest(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    return used == 1


def remaining_recovery_codes(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def turn_off(user) -> None:
    with transaction.atomic():
        SecondFactor.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
