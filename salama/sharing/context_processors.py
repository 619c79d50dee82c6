"""``shared_with_us`` for the menu: whether an agreement in force shares data with one of the
user's organisations. Lazy, so a page that does not show the menu never asks; and it reads
``agreements.in_force_for``, which the door has read already on any page that lists
incidents, so it costs no query there (one small one elsewhere)."""

from django.utils.functional import SimpleLazyObject

from salama.sharing.agreements import in_force_for


def shared_with_us(request):
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {"shared_with_us": False}
    return {"shared_with_us": SimpleLazyObject(lambda: bool(in_force_for(user)))}
