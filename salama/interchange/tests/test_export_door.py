"""Exports hold what the permission door lets each persona see, in every format and scheme."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from salama.conftest import make_incident, make_organisation, make_user
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.services import endorse, merge, submit
from salama.interchange.exports import ExportRefused, run_export
from salama.interchange.exports.writers import WRITERS
from salama.interchange.tests.export_readers import exported
from salama.organisations.choices import OrganisationType, Role

pytestmark = pytest.mark.django_db

FORMATS = list(WRITERS)
# The column holding the Salama reference, per scheme.
REFERENCE = {"native": "reference", "awsd": "Incident ID", "sind": "Salama Reference"}
KILLED = [{"impact": c.Impact.KILLED, "cause": c.Cause.VIOLENCE, "recruitment": "national"}]


def _build_world():
    """Incidents of every marking owned by UNDP, one of NRC's, a UNDP draft, a merged one."""
    undp = make_organisation("UNDP", OrganisationType.UN_AFP)
    nrc = make_organisation("NRC", OrganisationType.INGO)
    reporter = make_user("rita", undp, roles=(Role.REPORTER,))
    endorser = make_user("emma", undp, roles=(Role.ENDORSER, Role.REPORTER))
    outsider = make_user("omar", nrc, roles=(Role.ANALYST,))
    nrc_reporter = make_user("nadia", nrc, roles=(Role.REPORTER, Role.ENDORSER))

    def published(user, organisation, marking):
        incident = make_incident(user, organisation, persons=KILLED, marking=marking)
        submit(incident, user)
        return incident.reference

    refs = {marking: published(reporter, undp, marking) for marking in TLP}
    refs["nrc_amber"] = published(nrc_reporter, nrc, TLP.AMBER)
    refs["draft"] = make_incident(reporter, undp, persons=KILLED, marking=TLP.GREEN).reference
    duplicate = make_incident(reporter, undp, persons=KILLED, marking=TLP.GREEN)
    survivor = make_incident(reporter, undp, persons=KILLED, marking=TLP.GREEN)
    submit(duplicate, reporter)
    submit(survivor, reporter)
    endorse(survivor, endorser)
    merge(duplicate, survivor, endorser)
    refs["survivor"] = survivor.reference
    everyone = {refs[TLP.CLEAR], refs[TLP.GREEN], refs["survivor"]}
    undp_members = everyone | {refs[TLP.AMBER], refs[TLP.AMBER_STRICT], refs["draft"]}
    return {
        "reporter": (reporter, undp_members | {refs[TLP.RED]}),
        "endorser": (endorser, undp_members),
        "outsider": (outsider, everyone | {refs["nrc_amber"]}),
        "nrc_reporter": (nrc_reporter, everyone | {refs["nrc_amber"]}),
        "undp": undp,
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module, in a transaction rolled back at its end (each test still
    runs in its own savepoint, so the audit entries of its exports go too)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("persona", ["reporter", "endorser", "outsider", "nrc_reporter"])
def test_each_persona_exports_exactly_what_the_door_shows(world, persona, format_name):
    user, expected = world[persona]
    result, rows = exported(user, format_name, "native")
    assert {row["reference"] for row in rows} == expected
    assert result.rows == len(expected)


@pytest.mark.parametrize("scheme", ["awsd", "sind"])
@pytest.mark.parametrize("format_name", FORMATS)
def test_the_other_schemes_go_through_the_same_door(world, scheme, format_name):
    user, expected = world["outsider"]
    _, rows = exported(user, format_name, scheme)
    assert {row[REFERENCE[scheme]] for row in rows} == expected


def test_an_anonymous_visitor_gets_no_export(world):
    import io

    with pytest.raises(ExportRefused, match="signed-in"):
        run_export(AnonymousUser(), format="csv", scheme="native", out=io.BytesIO())


def test_filters_narrow_within_the_door(world):
    user, _ = world["outsider"]
    make_incident(
        world["reporter"][0],
        world["undp"],
        persons=KILLED,
        marking=TLP.GREEN,
        country="AF",
        place="Herat",
        latitude=34.35,
        longitude=62.2,
    )
    # A draft: the outsider does not see it even when the filter matches it.
    _, rows = exported(user, "csv", "native", {"country": "AF"})
    assert rows == []
    reporter = world["reporter"][0]
    _, rows = exported(reporter, "csv", "native", {"country": "AF"})
    assert [row["place"] for row in rows] == ["Herat"]


def test_an_invalid_filter_refuses_the_export_rather_than_widen_it(world):
    user, _ = world["outsider"]
    with pytest.raises(ExportRefused, match="date_from"):
        exported(user, "csv", "native", {"date_from": "not a date"})


def test_unknown_format_or_scheme_is_refused(world):
    user, _ = world["outsider"]
    with pytest.raises(ExportRefused, match="Unknown export format 'pdf'"):
        exported(user, "pdf", "native")
    with pytest.raises(ExportRefused, match="Unknown export scheme 'who'"):
        exported(user, "csv", "who")


def test_other_organisations_amber_data_never_leaks_through_related_rows(world):
    """Persons of an incident the user may not see are not counted in any row."""
    user, expected = world["outsider"]
    _, rows = exported(user, "csv", "native")
    assert sum(int(row["killed"]) for row in rows) == len(expected)


def test_merged_duplicates_are_left_out_as_on_the_list(world):
    user, expected = world["reporter"]
    _, rows = exported(user, "csv", "native")
    assert {row["status"] for row in rows} <= {"draft", "submitted", "endorsed", "closed"}
    make_organisation("OCHA")  # an unrelated organisation changes nothing
    assert {row["reference"] for row in exported(user, "csv", "native")[1]} == expected
