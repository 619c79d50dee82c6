"""Sharing agreements: who may make and answer them, what each level shares, and that the
ORM door and the DuckDB door widen alike (and only for TLP:AMBER past draft)."""

import datetime
import itertools

import pytest
from django.test import override_settings
from django.utils import timezone

from salama.analytics import query, snapshot
from salama.conftest import make_incident, make_organisation, make_user
from salama.core.audit import AuditEntry
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import Incident
from salama.organisations.choices import OrganisationType, Role
from salama.sharing import agreements
from salama.sharing.agreements import AgreementError
from salama.sharing.figures import figures
from salama.sharing.models import Agreement
from salama.sharing.redaction import redact
from salama.sharing.tests.conftest import agreed

pytestmark = pytest.mark.django_db

STATUSES = [s for s in c.Status if s != c.Status.MERGED]
WHERE = {
    "SS": {"country": "SS"},
    "SD": {
        "country": "SD",
        "admin1": "Khartoum",
        "place": "Khartoum",
        "latitude": 15.5,
        "longitude": 32.53,
    },
}


def agreement(provider, recipient, by_provider, by_recipient, level=Agreement.Level.FULL, **terms):
    return agreed(provider, recipient, by_provider, by_recipient, level=level, **terms)


def visible(user) -> set[int]:
    return set(Incident.objects.visible_to(user).values_list("pk", flat=True))


# -- the workflow ------------------------------------------------------------------------


def test_only_the_providers_admin_proposes_and_only_the_recipients_admin_accepts(
    undp, nrc, undp_admin, nrc_admin, reporter
):
    with pytest.raises(AgreementError, match="admin of UNDP"):
        agreements.propose(undp, nrc, level="full", purpose="x", by=reporter)
    with pytest.raises(AgreementError, match="admin of UNDP"):
        agreements.propose(undp, nrc, level="full", purpose="x", by=nrc_admin)
    with pytest.raises(AgreementError, match="itself"):
        agreements.propose(undp, undp, level="full", purpose="x", by=undp_admin)
    with pytest.raises(AgreementError, match="purpose"):
        agreements.propose(undp, nrc, level="full", purpose="  ", by=undp_admin)
    with pytest.raises(AgreementError, match="XX"):
        agreements.propose(undp, nrc, level="full", purpose="x", by=undp_admin, countries=["XX"])
    with pytest.raises(AgreementError, match="end before"):
        agreements.propose(
            undp,
            nrc,
            level="full",
            purpose="x",
            by=undp_admin,
            starts_on=datetime.date(2026, 1, 2),
            ends_on=datetime.date(2026, 1, 1),
        )
    proposed = agreements.propose(
        undp, nrc, level="redacted", purpose="x", by=undp_admin, countries=["ss", "SD "]
    )
    assert proposed.countries == ["SD", "SS"]
    assert proposed.state() == Agreement.State.PROPOSED
    with pytest.raises(AgreementError, match="admin of NRC"):
        agreements.accept(proposed, by=undp_admin)
    accepted = agreements.accept(proposed, by=nrc_admin)
    assert accepted.state() == Agreement.State.IN_FORCE
    with pytest.raises(AgreementError, match="In force"):
        agreements.accept(accepted, by=nrc_admin)
    with pytest.raises(AgreementError, match="either side"):
        agreements.end(accepted, by=reporter)
    ended = agreements.end(accepted, by=undp_admin, reason="Programme closed")
    assert ended.state() == Agreement.State.ENDED
    actions = list(
        AuditEntry.objects.filter(object_type="sharing.agreement").values_list("action", flat=True)
    )
    assert actions == ["agreement:propose", "agreement:accept", "agreement:end"]


def test_a_declined_proposal_shares_nothing_and_cannot_be_accepted(
    undp, nrc, undp_admin, nrc_admin, reporter, outsider
):
    amber = make_incident(reporter, undp, marking=TLP.AMBER)
    Incident.objects.filter(pk=amber.pk).update(status=c.Status.SUBMITTED)
    proposed = agreement(undp, nrc, undp_admin, None)
    assert amber.pk not in visible(outsider)  # proposed is not in force
    declined = agreements.decline(proposed, by=nrc_admin, reason="No need to know")
    assert declined.state() == Agreement.State.DECLINED
    with pytest.raises(AgreementError, match="Declined"):
        agreements.accept(declined, by=nrc_admin)
    assert amber.pk not in visible(outsider)


def test_the_term_bounds_the_agreement(undp, nrc, undp_admin, nrc_admin, reporter, outsider):
    amber = make_incident(reporter, undp, marking=TLP.AMBER)
    Incident.objects.filter(pk=amber.pk).update(status=c.Status.SUBMITTED)
    today = timezone.localdate()
    later = agreement(
        undp, nrc, undp_admin, nrc_admin, starts_on=today + datetime.timedelta(days=3)
    )
    assert later.state() == Agreement.State.SCHEDULED
    assert amber.pk not in visible(outsider)
    assert later.state(today + datetime.timedelta(days=3)) == Agreement.State.IN_FORCE
    past = agreement(
        undp,
        nrc,
        undp_admin,
        nrc_admin,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today - datetime.timedelta(days=1),
    )
    assert past.state() == Agreement.State.EXPIRED
    assert amber.pk not in visible(make_user("omar2", nrc, roles=(Role.ANALYST,)))


# -- the full level: the door ------------------------------------------------------------


@pytest.fixture
def every_kind(reporter, undp):
    """A UNDP incident for every marking × status, in South Sudan and in Sudan."""
    made = {}
    for marking, status, country in itertools.product(TLP, STATUSES, ["SS", "SD"]):
        incident = make_incident(reporter, undp, marking=marking, **WHERE[country])
        Incident.objects.filter(pk=incident.pk).update(status=status)
        made[(marking, status, country)] = incident.pk
    return made


def test_a_full_agreement_shares_amber_past_draft_in_its_countries_only(
    every_kind, undp, nrc, undp_admin, nrc_admin, outsider
):
    before = visible(outsider)
    made = agreement(undp, nrc, undp_admin, nrc_admin, countries=["SS"])
    outsider = type(outsider).objects.get(pk=outsider.pk)  # a new request
    gained = visible(outsider) - before
    expected = {
        pk
        for (marking, status, country), pk in every_kind.items()
        if marking == TLP.AMBER and status != c.Status.DRAFT and country == "SS"
    }
    assert gained == expected
    assert len(expected) == len(STATUSES) - 1
    # AMBER+STRICT and RED stay where they were, whatever the agreement says.
    for (marking, _status, _country), pk in every_kind.items():
        if marking in (TLP.AMBER_STRICT, TLP.RED):
            assert pk not in visible(outsider)
    agreements.end(made, by=nrc_admin)
    outsider = type(outsider).objects.get(pk=outsider.pk)
    assert visible(outsider) == before


def test_redacted_and_aggregate_agreements_do_not_widen_the_door(
    every_kind, undp, nrc, undp_admin, nrc_admin, outsider
):
    before = visible(outsider)
    agreement(undp, nrc, undp_admin, nrc_admin, level=Agreement.Level.REDACTED)
    agreement(undp, nrc, undp_admin, nrc_admin, level=Agreement.Level.AGGREGATE)
    outsider = type(outsider).objects.get(pk=outsider.pk)
    assert visible(outsider) == before


def test_duckdb_door_widens_exactly_as_the_orm_door(
    every_kind, undp, nrc, undp_admin, nrc_admin, outsider, reporter
):
    wfp = make_organisation("WFP", OrganisationType.UN_AFP)
    wfp_admin = make_user("wanda", wfp, roles=(Role.ORG_ADMIN,))
    both = make_user("bea", nrc, roles=(Role.ANALYST,))
    both.memberships.create(organisation=undp, role=Role.REPORTER)  # in both organisations
    agreement(undp, nrc, undp_admin, nrc_admin, countries=["SS"])
    agreement(undp, nrc, undp_admin, nrc_admin, countries=["SD"], level="redacted")
    wfp_user = make_user("walt", wfp, roles=(Role.ANALYST,))
    agreement(undp, wfp, undp_admin, wfp_admin)  # every country
    snapshot.refresh(full=True)
    for user in (outsider, reporter, both, wfp_user):
        expected = sorted(visible(user))
        assert query.incident_ids("incidents", user=user) == expected, user.username
        assert query.incident_ids("persons", user=user) == expected, user.username
    amber_sd = every_kind[(TLP.AMBER, c.Status.SUBMITTED, "SD")]
    assert amber_sd in query.incident_ids("incidents", user=wfp_user)
    assert amber_sd not in query.incident_ids("incidents", user=outsider)


def test_an_agreement_ended_after_the_snapshot_closes_the_duckdb_door_at_once(
    every_kind, undp, nrc, undp_admin, nrc_admin, outsider
):
    made = agreement(undp, nrc, undp_admin, nrc_admin)
    snapshot.refresh(full=True)
    amber = every_kind[(TLP.AMBER, c.Status.ENDORSED, "SS")]
    assert amber in query.incident_ids("incidents", user=outsider)
    agreements.end(made, by=undp_admin)
    outsider = type(outsider).objects.get(pk=outsider.pk)
    assert amber not in query.incident_ids("incidents", user=outsider)


# -- the redacted level ------------------------------------------------------------------


def test_a_redacted_record_keeps_what_happened_and_withholds_who_and_where(
    undp, nrc, undp_admin, nrc_admin, reporter
):
    incident = make_incident(
        reporter,
        undp,
        marking=TLP.AMBER,
        admin2="Juba County",
        perpetrator_name="Named group",
        persons=[
            {
                "impact": c.Impact.KILLED,
                "cause": c.Cause.VIOLENCE,
                "gender": c.Gender.FEMALE,
                "recruitment": c.Recruitment.NATIONAL,
            },
            {
                "impact": c.Impact.KILLED,
                "cause": c.Cause.VIOLENCE,
                "gender": c.Gender.MALE,
                "recruitment": c.Recruitment.NATIONAL,
            },
            {
                "impact": c.Impact.SEXUAL_ASSAULT,
                "cause": c.Cause.VIOLENCE,
                "gender": c.Gender.FEMALE,
                "recruitment": c.Recruitment.INTERNATIONAL,
            },
        ],
    )
    made = agreement(undp, nrc, undp_admin, nrc_admin, level="redacted")
    record = redact(incident, made)
    assert record["date"] == datetime.date(2024, 3, 1)
    assert record["date_precision"] == c.DatePrecision.MONTH
    assert (record["country"], record["admin1"]) == ("SS", "Central Equatoria")
    assert record["narrative"] == "" and record["narrative_withheld"]
    assert record["persons"] == [
        {"impact": "killed", "cause": "violence", "recruitment": "national", "count": 2}
    ]
    text = repr(record)
    for withheld in ("Juba", "4.85", "31.6", "Named group", "female", "sexual", "rita"):
        assert withheld not in text
    with_narratives = agreement(undp, nrc, undp_admin, nrc_admin, level="redacted", narratives=True)
    assert redact(incident, with_narratives)["narrative"] == incident.narrative


def test_records_of_an_agreement_are_its_providers_shareable_incidents_in_its_countries(
    every_kind, undp, nrc, undp_admin, nrc_admin
):
    made = agreement(undp, nrc, undp_admin, nrc_admin, level="redacted", countries=["SD"])
    expected = {
        pk
        for (marking, status, country), pk in every_kind.items()
        if marking == TLP.AMBER and status != c.Status.DRAFT and country == "SD"
    }
    assert set(agreements.records(made).values_list("pk", flat=True)) == expected


# -- figures -----------------------------------------------------------------------------


@override_settings(SHARING_MIN_CELL=3)
def test_figures_suppress_small_cells_and_count_incidents_and_people_apart(
    undp, nrc, undp_admin, nrc_admin, reporter
):
    killed = {"impact": c.Impact.KILLED, "cause": c.Cause.VIOLENCE}
    for day in (1, 2, 3):
        incident = make_incident(
            reporter,
            undp,
            marking=TLP.AMBER,
            date=datetime.date(2024, 5, day),
            persons=[killed, killed],
        )
        Incident.objects.filter(pk=incident.pk).update(status=c.Status.SUBMITTED)
    single = make_incident(reporter, undp, marking=TLP.AMBER, persons=[killed], **WHERE["SD"])
    Incident.objects.filter(pk=single.pk).update(status=c.Status.SUBMITTED)
    hidden = make_incident(reporter, undp, marking=TLP.RED, persons=[killed] * 5)
    Incident.objects.filter(pk=hidden.pk).update(status=c.Status.SUBMITTED)
    made = agreement(undp, nrc, undp_admin, nrc_admin, level="aggregate")
    rows = {(r["country"], r["year"]): r for r in figures(made)}
    assert set(rows) == {("SS", 2024), ("SD", 2024)}
    assert rows[("SS", 2024)]["incidents"] == 3
    assert rows[("SS", 2024)]["killed"] == 6  # the RED incident's five are not shared
    assert rows[("SS", 2024)]["injured"] == 0  # zero is not a small cell
    assert rows[("SD", 2024)]["incidents"] is None  # one incident: suppressed
    assert rows[("SD", 2024)]["killed"] is None


# -- reminders ---------------------------------------------------------------------------


def test_both_sides_are_told_once_when_an_agreement_is_about_to_end(
    undp, nrc, undp_admin, nrc_admin, mailoutbox, settings
):
    from django.core.management import call_command

    settings.SHARING_EXPIRY_NOTICE_DAYS = 30
    undp_admin.email, nrc_admin.email = "ada@undp.test", "nils@nrc.test"
    undp_admin.save(), nrc_admin.save()
    today = timezone.localdate()
    soon = agreement(undp, nrc, undp_admin, nrc_admin, ends_on=today + datetime.timedelta(days=30))
    agreement(undp, nrc, undp_admin, nrc_admin, ends_on=today + datetime.timedelta(days=31))
    agreement(undp, nrc, undp_admin, nrc_admin)  # no end
    agreement(undp, nrc, undp_admin, None, ends_on=today + datetime.timedelta(days=3))  # proposed
    mailoutbox.clear()
    assert agreements.remind(today) == [soon]
    (mail,) = mailoutbox
    assert sorted(mail.to) == ["ada@undp.test", "nils@nrc.test"]
    assert soon.ends_on.isoformat() in mail.subject
    assert AuditEntry.objects.filter(action="agreement:expiry_notice").count() == 1
    # Once only, whether run again the same day or the next.
    assert agreements.remind(today) == []
    call_command("agreement", "remind")
    assert len(mailoutbox) == 1
    # The next day the other one enters the window.
    assert len(agreements.remind(today + datetime.timedelta(days=1))) == 1


def test_a_reminder_whose_mail_failed_is_tried_again(undp, nrc, undp_admin, nrc_admin, monkeypatch):
    from salama.sharing import notices

    undp_admin.email = "ada@undp.test"
    undp_admin.save()
    today = timezone.localdate()
    made = agreement(undp, nrc, undp_admin, nrc_admin, ends_on=today + datetime.timedelta(days=5))
    monkeypatch.setattr(notices, "send_mail", _refuse)
    assert agreements.remind(today) == []
    made.refresh_from_db()
    assert made.expiry_notice_sent_on is None
    monkeypatch.undo()
    assert agreements.remind(today) == [made]


def _refuse(*args, **kwargs):
    raise OSError("mail server down")
