"""Lists shown to people, joined the way the reader's language joins them."""

from collections.abc import Callable, Iterable

from django.utils.translation import pgettext


def join_list(items: Iterable, *, escape: Callable[[str], str] | None = None) -> str:
    """``items`` as one list in the active language, each item joined with that language's
    separator (", " in English, "، " in Arabic, "、" in Chinese); empty when there are none.

    ``escape`` (e.g. ``conditional_escape``), when given, is applied to every item and to the
    separator, for HTML."""
    items = [str(item) for item in items or ()]
    if not items:
        return ""
    # Translators: joins one more item to a list; only the separator between them changes
    # (", " in English, "، " in Arabic, "、" in Chinese).
    pattern = pgettext("list separator", "%(list)s, %(item)s")
    if escape is not None:
        pattern = escape(pattern)
        items = [escape(item) for item in items]
    text = items[0]
    for item in items[1:]:
        text = pattern % {"list": text, "item": item}
    return str(text)
