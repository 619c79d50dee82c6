"""``{{ items|join_list }}``: a list joined with the separator of the reader's language."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from salama.core.lists import join_list as _join_list

register = template.Library()


@register.filter(needs_autoescape=True)
def join_list(value, autoescape=True):
    """Like ``|join:", "`` but with the active language's separator (``"، "`` in Arabic,
    ``"、"`` in Chinese); items and separator are escaped when autoescaping is on."""
    if not value:
        return ""
    if isinstance(value, str):
        value = [value]
    if not autoescape:
        return _join_list(value)
    return mark_safe(_join_list(value, escape=conditional_escape))  # noqa: S308 — all escaped
