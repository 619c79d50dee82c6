"""The yearly figures: counting rules on tiny hand-made cases.

The same rules on the real AWSD file, after importing it, are tested where the importer lives:
``salama/interchange/tests/test_awsd_figures.py`` (incidents knows nothing of interchange).
"""

import io
import json

import pytest
from django.core.management import call_command

from salama.conftest import make_incident
from salama.incidents import choices as c
from salama.incidents.figures import awsd_figures, female_count, figures
from salama.incidents.models import Incident, ReportedTotal
from salama.incidents.services import merge

pytestmark = pytest.mark.django_db


def person(impact=c.Impact.KILLED, count=1, **extra):
    return {
        "impact": impact,
        "cause": c.Cause.VIOLENCE,
        "recruitment": c.Recruitment.NATIONAL,
        "count": count,
        **extra,
    }


def year_2024():
    return awsd_figures(Incident.objects.all(), 2024)


# -- tiny hand-made cases -------------------------------------------------------------------


def test_people_are_counted_not_incidents(reporter, undp):
    make_incident(reporter, undp, persons=[person(count=3), person(c.Impact.INJURED)])
    make_incident(reporter, undp, persons=[person(c.Impact.ABDUCTED, count=2)])
    result = year_2024()
    assert (result["incidents"], result["killed"], result["wounded"]) == (2, 3, 1)
    assert (result["kidnapped"], result["affected"]) == (2, 6)


def test_safety_incidents_and_minor_harm_are_not_awsd_figures(reporter, undp):
    make_incident(
        reporter,
        undp,
        category=c.Category.SAFETY,
        subcategory=c.SubCategory.ROAD_TRAFFIC,
        means_of_attack="",
        persons=[{**person(), "cause": c.Cause.SAFETY}],
    )
    make_incident(reporter, undp, persons=[person(c.Impact.ROBBERY)])
    assert year_2024()["incidents"] == 0
    assert year_2024()["affected"] == 0


def test_someone_killed_in_captivity_counts_as_killed(reporter, undp):
    make_incident(reporter, undp, persons=[person(killed_in_captivity=True)])
    assert (year_2024()["killed"], year_2024()["kidnapped"]) == (1, 0)


def test_locally_recruited_staff_are_nationals_and_unknown_recruitment_is_neither(reporter, undp):
    make_incident(
        reporter,
        undp,
        persons=[
            person(recruitment=c.Recruitment.LOCALLY_RECRUITED),
            person(recruitment=c.Recruitment.INTERNATIONAL),
            person(recruitment=c.Recruitment.UNKNOWN),
        ],
    )
    result = year_2024()
    assert (result["nationals"], result["internationals"], result["affected"]) == (1, 1, 3)


def test_women_come_from_the_gender_total_where_the_source_gave_one_else_from_persons(
    reporter, undp
):
    margins = make_incident(reporter, undp, persons=[person(count=4)])
    ReportedTotal.objects.create(incident=margins, dimension="gender", value="female", count=3)
    ReportedTotal.objects.create(incident=margins, dimension="gender", value="male", count=1)
    make_incident(
        reporter,
        undp,
        persons=[person(gender=c.Gender.FEMALE), person(gender=c.Gender.MALE)],
    )
    assert female_count(Incident.objects.all()) == 3 + 1


def test_an_incident_merged_into_another_is_not_counted(reporter, undp):
    survivor = make_incident(reporter, undp, persons=[person()])
    duplicate = make_incident(reporter, undp, persons=[person()])
    merge(duplicate, survivor, reporter, check_permission=False)
    assert (year_2024()["incidents"], year_2024()["killed"]) == (1, 1)


def test_the_figures_go_through_the_door_when_a_user_is_given(reporter, outsider, undp):
    make_incident(reporter, undp, marking="AMBER", persons=[person(count=2)])
    assert figures("awsd", 2024, user=reporter)["killed"] == 2
    assert figures("awsd", 2024, user=outsider)["killed"] == 0
    assert figures("awsd", 2024)["killed"] == 2  # the operator counts everything


def test_the_command_counts_what_the_named_user_may_see(reporter, outsider, undp):
    make_incident(reporter, undp, marking="AMBER", persons=[person(count=2)])
    out = io.StringIO()
    call_command("figures", "--year", "2024", "--user", "omar", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["killed"] == 0
