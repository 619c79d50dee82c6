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


def map_description(n):
    # The description salama.incidents.views.incident_map gives the map when nothing is capped.
    return ngettext(
        "Dots mark where incidents happened: %(n)s incident with coordinates matches the filters.",
        "Dots mark where incidents happened: %(n)s incidents with coordinates match the filters.",
        n,
    ) % {"n": n}


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("ru", 1, "фильтрам соответствует 1 инцидент с координатами."),
        ("ru", 3, "фильтрам соответствуют 3 инцидента с координатами."),
        ("ru", 12, "фильтрам соответствуют 12 инцидентов с координатами."),
        ("ar", 2, "عدد الحوادث ذات الإحداثيات المطابقة لعوامل التصفية هو 2."),
        ("ar", 7, "تطابق عوامل التصفية 7 حوادث ذات إحداثيات."),
        ("ar", 40, "تطابق عوامل التصفية 40 حادثاً ذا إحداثيات."),
        ("ar", 300, "تطابق عوامل التصفية 300 حادث ذي إحداثيات."),
        ("en", 1, "1 incident with coordinates matches the filters."),
    ],
)
def test_map_description_counts_its_incidents(language, n, expected):
    with override(language):
        assert map_description(n).endswith(expected)


@pytest.mark.parametrize(
    ("language", "case", "pair"),
    [("fr", "Proposé", "Proposée"), ("ru", "Предложено", "Предложена"), ("ar", "مقترَحة", "مقترَح")],
)
def test_a_status_word_agrees_with_what_it_describes(language, case, pair):
    # Not a count, but the same concern: one English word, a form per noun it qualifies.
    from salama.linkage.models import CandidatePair
    from salama.registry.choices import CaseStatus

    with override(language):
        assert str(CaseStatus.PROPOSED.label) == case
        assert str(CandidatePair.Status.PROPOSED.label) == pair


@pytest.mark.parametrize(
    ("language", "separator"), [("en", ", "), ("ar", "، "), ("zh_Hans", "、"), ("fr", ", ")]
)
def test_a_list_takes_the_separator_of_its_language(language, separator):
    from salama.registry.models import FollowUp

    follow_up = FollowUp(ask_investigate=True, ask_inform=True, ask_release=True)
    with override(language):
        assert follow_up.asked_text() == separator.join(follow_up.asked())
        assert len(follow_up.asked()) == 3
    assert FollowUp().asked_text() == ""


def join_list_in_a_template(items):
    # As in linkage/_provenance.html, risk/_record.html and registry/detail.html.
    return Template("{% load salama_lists %}{{ items|join_list }}").render(
        Context({"items": items})
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", "AWSD، INSO، ACLED"),
        ("zh_Hans", "AWSD、INSO、ACLED"),
        ("en", "AWSD, INSO, ACLED"),
    ],
)
def test_join_list_takes_the_separator_of_its_language(language, expected):
    from salama.core.lists import join_list

    with override(language):
        assert join_list(["AWSD", "INSO", "ACLED"]) == expected
        assert join_list_in_a_template(["AWSD", "INSO", "ACLED"]) == expected
        assert join_list(["AWSD"]) == "AWSD"
        assert join_list([]) == join_list_in_a_template([]) == ""


@pytest.mark.parametrize("language", ["ar", "zh_Hans"])
def test_join_list_in_a_template_escapes_each_item(language):
    with override(language):
        joined = join_list_in_a_template(["<b>", "A & B"])
    assert "<b>" not in joined
    assert joined.startswith("&lt;b&gt;")
    assert joined.endswith("A &amp; B")


@pytest.mark.django_db
def test_a_status_move_that_is_not_allowed_quotes_both_statuses_in_french(reporter, endorser, undp):
    # The message salama.incidents.services gives when a move is not allowed from the status:
    # the status names are quoted labels, so no agreement with the sentence is needed.
    from salama.conftest import make_incident
    from salama.incidents import services

    draft = make_incident(reporter, undp)
    with override("fr"), pytest.raises(services.WorkflowError) as raised:
        services.endorse(draft, endorser)
    nbsp = "\u00a0"
    assert str(raised.value) == (
        f"{draft.reference} ne peut pas passer de «{nbsp}Brouillon{nbsp}» à «{nbsp}Validé{nbsp}»."
    )
