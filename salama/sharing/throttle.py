"""At most ``SALAMA_API_REQUESTS_PER_MINUTE`` requests a minute per API key, counted in the
database (``ApiRequestCount``), so that the budget is shared by every server process and
machine: a cache in each process would multiply it by the number of workers.

Fixed windows of one calendar minute: each request adds one to its key's count for the
current minute in a single UPDATE (or INSERT for the minute's first), and is refused with 429
and ``Retry-After`` (the seconds left in the minute) past the limit. Counts older than
``KEEP_MINUTES`` are deleted now and then by the requests themselves.
"""

import random
import threading
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from ninja.throttling import BaseThrottle

from salama.sharing.models import ApiRequestCount

KEEP_MINUTES = 10
PRUNE_ONE_IN = 200  # requests


def count(prefix: str, now: float | None = None) -> int:
    """Add one request of key ``prefix`` to the current minute; return the minute's count."""
    minute = int((time.time() if now is None else now) // 60)
    mine = ApiRequestCount.objects.filter(prefix=prefix, minute=minute)
    with transaction.atomic():
        if not mine.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    ApiRequestCount.objects.create(prefix=prefix, minute=minute, count=1)
            except IntegrityError:  # another process made the row first
                mine.update(count=F("count") + 1)
        total = mine.values_list("count", flat=True).get()
    if random.randrange(PRUNE_ONE_IN) == 0:  # noqa: S311 (not a secret)
        ApiRequestCount.objects.filter(minute__lt=minute - KEEP_MINUTES).delete()
    return total


class PerKeyThrottle(BaseThrottle):
    """ninja's throttle interface over :func:`count` (the key is known: it runs after auth)."""

    def __init__(self):
        self._local = threading.local()  # one instance serves every request thread

    def allow_request(self, request) -> bool:
        key = getattr(request, "auth", None)
        if key is None:
            return True  # not signed in with a key: authentication refuses it
        now = time.time()
        if count(key.prefix, now) <= settings.API_REQUESTS_PER_MINUTE:
            return True
        self._local.retry_after = 60 - int(now % 60)
        return False

    def wait(self):
        return getattr(self._local, "retry_after", None)
