"""Counted messages take the plural form the language needs, from the committed catalogs.

Russian has three forms (1, 21…; 2–4, 22–24…; 0, 5–20, 25–30…), Arabic six (0, 1, 2, 3–10, 11–99,
100 and up): a message built with ngettext or {% blocktranslate count %} must pick the right one.
"""

import pytest
from django.template import Context, Template
from django.utils.translation import ngettext, override


def linked(n):
    # The message salama.linkage.views.run shows after a linkage run.
    return ngettext("Linked %(n)s incident.", "Linked %(n)s incidents.", n) % {"n": n}


def days_held(n):
    # As in registry/_summary_body.html.
    template = Template(
        "{% load i18n %}{% blocktranslate count days=n %}{{ days }} day held{% plural %}"
        "{{ days }} days held{% endblocktranslate %}"
    )
    return template.render(Context({"n": n}))


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "Связан 1 инцидент."),
        (2, "Связано 2 инцидента."),
        (5, "Связано 5 инцидентов."),
        (11, "Связано 11 инцидентов."),
        (21, "Связан 21 инцидент."),
    ],
)
def test_russian_picks_one_few_or_many(n, expected):
    with override("ru"):
        assert linked(n) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "1 день удержания"),
        (2, "2 дня удержания"),
        (5, "5 дней удержания"),
        (11, "11 дней удержания"),
        (22, "22 дня удержания"),
    ],
)
def test_russian_template_plurals(n, expected):
    with override("ru"):
        assert days_held(n) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "عدد الحوادث المربوطة: 1."),
        (2, "عدد الحوادث المربوطة: 2."),
        (5, "رُبطت 5 حوادث."),
        (11, "رُبط 11 حادثاً."),
        (100, "رُبط 100 حادث."),
    ],
)
def test_arabic_picks_its_six_forms(n, expected):
    with override("ar"):
        assert linked(n) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "أيام الاحتجاز: 1"),
        (2, "أيام الاحتجاز: 2"),
        (5, "5 أيام من الاحتجاز"),
        (11, "11 يوماً من الاحتجاز"),
    ],
)
def test_arabic_template_plurals(n, expected):
    with override("ar"):
        assert days_held(n) == expected


@pytest.mark.parametrize(("n", "expected"), [(1, "Linked 1 incident."), (5, "Linked 5 incidents.")])
def test_english_is_the_source(n, expected):
    with override("en"):
        assert linked(n) == expected
