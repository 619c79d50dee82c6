"""Links that leave the site (e-mails): the page's path behind ``SALAMA_SITE_URL``."""

from django.conf import settings
from django.urls import reverse


def absolute_url(viewname: str, *args) -> str:
    """The address of a page for someone reading an e-mail: ``SITE_URL`` + its path (the path
    alone when no site URL is configured)."""
    return settings.SITE_URL + reverse(viewname, args=args)
