"""Small pieces the ``salama`` commands share."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def user_named(username: str | None, *, active: bool = False):
    """The user a command's ``--user`` / ``--by`` names (None when it names nobody), or a
    CommandError saying there is no such user."""
    if not username:
        return None
    users = get_user_model().objects.filter(username=username)
    if active:
        users = users.filter(is_active=True)
    user = users.first()
    if user is None:
        raise CommandError(f"No {'active ' if active else ''}user {username!r}.")
    return user
