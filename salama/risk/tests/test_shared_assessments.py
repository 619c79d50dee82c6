"""Security risk assessments shared by a full sharing agreement (Saving Lives Together).

Personas: UNDP shares; ``ana`` writes its assessments, ``paul`` approves them, ``ada`` is its
organisation admin. NRC receives: ``omar`` (analyst), ``nils`` (approver), ``nadia`` (admin).
``wanda`` of WFP is under no agreement. The door is
``Assessment.objects.visible_to`` (through ``incidents.grants``, subject ``assessments``); the
pages read through it and the services refuse every change by the recipient.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from salama.conftest import make_incident, make_organisation, make_user
from salama.core.markings import TLP
from salama.core.models import AuditEntry
from salama.incidents import grants
from salama.incidents import services as incident_services
from salama.incidents.models import Incident
from salama.organisations.choices import OrganisationType, Role
from salama.risk import choices as rc
from salama.risk import services, views
from salama.risk.conftest import event, make_activity_area, make_area, make_assessment
from salama.risk.models import Assessment, Measure, Premises
from salama.sharing import agreements, keys
from salama.sharing.models import Agreement

pytestmark = pytest.mark.django_db

STATUSES = [s.value for s in rc.AssessmentStatus]
MARKINGS = [m.value for m in TLP]
# What the recipient of a full agreement with assessments sees (marking → statuses): the
# instance-wide markings past draft, as everyone does; TLP:AMBER once approved; nothing else.
SHARED = {
    TLP.CLEAR: {"submitted", "approved", "superseded"},
    TLP.GREEN: {"submitted", "approved", "superseded"},
    TLP.AMBER: {"approved", "superseded"},
    TLP.AMBER_STRICT: set(),
    TLP.RED: set(),
}


@pytest.fixture
def ada(undp):
    return make_user("ada", undp, roles=(Role.ORG_ADMIN,))


@pytest.fixture
def nadia(nrc):
    return make_user("nadia", nrc, roles=(Role.ORG_ADMIN,))


@pytest.fixture
def wanda(db):
    return make_user("wanda", make_organisation("WFP", OrganisationType.UN_AFP), (Role.ANALYST,))


def fresh(user):
    """The user as a new request sees them: grants and agreements are cached per user object."""
    return get_user_model().objects.get(pk=user.pk)


def share(undp, nrc, ada, nadia, **terms) -> Agreement:
    """A full agreement UNDP → NRC, accepted (in force from today), sharing assessments."""
    terms = {"level": Agreement.Level.FULL, "purpose": "SLT cell", "assessments": True} | terms
    return agreements.accept(agreements.propose(undp, nrc, by=ada, **terms), by=nadia)


def with_status(assessment, status) -> Assessment:
    Assessment.objects.filter(pk=assessment.pk).update(status=status)
    assessment.refresh_from_db()
    return assessment


def seen(user, *assessments) -> list[bool]:
    visible = set(Assessment.objects.visible_to(fresh(user)).values_list("pk", flat=True))
    return [a.pk in visible for a in assessments]


# -------------------------------------------------------------------------------- the door


@pytest.mark.parametrize("marking", MARKINGS)
@pytest.mark.parametrize("status", STATUSES)
def test_the_door_for_each_marking_and_status(
    marking, status, undp, nrc, ada, nadia, author, outsider, wanda, area
):
    assessment = with_status(make_assessment(author, area, marking=marking), status)
    everyone = marking in (TLP.CLEAR, TLP.GREEN) and status != "draft"
    assert seen(outsider, assessment) == [everyone]  # before any agreement

    share(undp, nrc, ada, nadia)
    assert seen(outsider, assessment) == [status in SHARED[marking]]
    assert seen(wanda, assessment) == [everyone]  # outside the agreement
    assert seen(author, assessment) == [True]  # the author's own, whatever its marking


def test_an_agreement_without_assessments_shares_the_incidents_only(
    undp, nrc, ada, nadia, author, approver, reporter, outsider, area
):
    assessment = make_assessment(author, area, approver=approver)
    incident = incident_services.submit(make_incident(reporter, undp, marking=TLP.AMBER), reporter)
    share(undp, nrc, ada, nadia, assessments=False)
    assert seen(outsider, assessment) == [False]
    assert Incident.objects.visible_to(fresh(outsider)).filter(pk=incident.pk).exists()


@pytest.mark.parametrize("level", [Agreement.Level.REDACTED, Agreement.Level.AGGREGATE])
def test_only_a_full_agreement_shares_assessments(
    level, undp, nrc, ada, nadia, author, approver, outsider, area
):
    assessment = make_assessment(author, area, approver=approver)
    agreement = share(undp, nrc, ada, nadia, level=level)
    assert agreement.assessments is False  # propose() drops it below the full level
    assert seen(outsider, assessment) == [False]
    entry = AuditEntry.objects.filter(action="agreement:propose").latest("seq")
    assert entry.after["assessments"] is False


def test_the_agreement_s_countries_bound_the_areas(
    undp, nrc, ada, nadia, author, approver, outsider
):
    juba = make_area(undp, "Juba", "SS")
    khartoum = make_area(undp, "Khartoum", "SD", admin1=("Khartoum",))
    kinshasa = make_area(undp, "Kinshasa", "CD", admin1=())
    in_juba, in_khartoum, in_kinshasa = (
        make_assessment(author, a, approver=approver) for a in (juba, khartoum, kinshasa)
    )
    share(undp, nrc, ada, nadia, countries=["SS"])
    assert seen(outsider, in_juba, in_khartoum, in_kinshasa) == [True, False, False]

    # A second agreement for Sudan widens; one for Congo without assessments does not.
    share(undp, nrc, ada, nadia, countries=["SD"])
    share(undp, nrc, ada, nadia, countries=["CD"], assessments=False)
    assert seen(outsider, in_juba, in_khartoum, in_kinshasa) == [True, True, False]


def test_an_ended_or_expired_agreement_shares_nothing(
    undp, nrc, ada, nadia, author, approver, outsider, area
):
    assessment = make_assessment(author, area, approver=approver)
    agreement = share(undp, nrc, ada, nadia)
    assert seen(outsider, assessment) == [True]
    agreements.end(agreement, by=nadia, reason="Cell closed")
    assert seen(outsider, assessment) == [False]

    today = datetime.date.today()
    share(
        undp,
        nrc,
        ada,
        nadia,
        starts_on=today - datetime.timedelta(days=60),
        ends_on=today - datetime.timedelta(days=1),
    )
    assert seen(outsider, assessment) == [False]
    proposed = agreements.propose(undp, nrc, by=ada, level="full", purpose="SLT", assessments=True)
    assert proposed.state() == Agreement.State.PROPOSED
    assert seen(outsider, assessment) == [False]  # not accepted yet


def test_an_agreement_shares_one_way(
    undp, nrc, ada, nadia, author, approver, outsider, outside_approver
):
    """An agreement shares one way: NRC's assessments stay with NRC."""
    nrc_area = make_area(nrc, "Bor", "SS", admin1=("Jonglei",))
    nrc_assessment = make_assessment(outsider, nrc_area, approver=outside_approver)
    share(undp, nrc, ada, nadia)
    assert seen(author, nrc_assessment) == [False]


def test_grants_are_kept_per_subject_on_the_user(undp, nrc, ada, nadia, outsider):
    share(undp, nrc, ada, nadia, countries=["SS"])
    share(undp, nrc, ada, nadia, countries=["SD"], assessments=False)
    user = fresh(outsider)
    assert grants.for_user(user) == [grants.Grant(undp.pk, ("SD", "SS"))]
    assert grants.for_user(user, grants.ASSESSMENTS) == [
        grants.Grant(undp.pk, ("SS",), grants.ASSESSMENTS)
    ]
    with pytest.raises(ValueError, match="Unknown grant subject"):
        grants.for_user(user, "premises")
    Agreement.objects.update(ended_at=datetime.datetime.now(datetime.UTC))
    assert grants.for_user(user, grants.ASSESSMENTS)  # cached for the request…
    agreements.forget(user)
    assert grants.for_user(user, grants.ASSESSMENTS) == []  # …until forgotten
    assert grants.for_user(user) == []


# ------------------------------------------------------------------------- no edits by them


def test_the_services_refuse_every_change_by_the_recipient(
    undp, nrc, ada, nadia, author, approver, outsider, outside_approver, area
):
    """NRC's analyst writes assessments and NRC's approver approves them, in NRC: neither
    may touch UNDP's, shared or not."""
    share(undp, nrc, ada, nadia)
    approved = make_assessment(author, area, approver=approver)
    draft = make_assessment(author, make_area(undp, "Yei", "SS", admin1=("Central Equatoria",)))
    submitted = make_assessment(
        author, make_area(undp, "Wau", "SS", admin1=("Western Bahr el Ghazal",))
    )
    services.submit(user=author, assessment=submitted)
    measure = approved.measures.get()

    refused = [
        lambda: services.add_threat_event(user=outsider, assessment=draft, fields=event()),
        lambda: services.add_general_threat(
            user=outsider,
            assessment=draft,
            fields={"category": "terrorism", "intent": 2, "capability": 2, "inhibiting_context": 2},
        ),
        lambda: services.submit(user=outsider, assessment=draft),
        lambda: services.approve(user=outside_approver, assessment=submitted),
        lambda: services.return_to_draft(user=outside_approver, assessment=submitted, reason="x"),
        lambda: services.set_measure_status(user=outsider, measure=measure, status="done"),
        lambda: services.revise(
            user=outsider,
            assessment=approved,
            period_start=datetime.date(2027, 1, 1),
            period_end=datetime.date(2027, 12, 31),
            review_date=datetime.date(2027, 6, 30),
        ),
    ]
    for change in refused:
        with pytest.raises(PermissionDenied):
            change()
    assert not services.can_edit(outsider, approved)
    assert not services.can_track_measures(outsider, approved)
    assert not services.can_approve(outside_approver, submitted)
    assert Assessment.objects.count() == 3
    assert draft.threat_events.count() == 1 and draft.general_threats.count() == 1
    assert Measure.objects.get(pk=measure.pk).status == measure.status
    assert Assessment.objects.get(pk=submitted.pk).status == rc.AssessmentStatus.SUBMITTED


def test_the_recipient_s_posts_change_nothing(
    client, undp, nrc, ada, nadia, author, approver, outside_approver, area
):
    assessment = make_assessment(author, area, approver=approver)
    measure = assessment.measures.get()
    share(undp, nrc, ada, nadia)
    client.force_login(outside_approver)
    pk = assessment.pk
    before = AuditEntry.objects.count()
    for action, data in [
        ("revise", {}),
        ("return", {"reason": "no"}),
        ("approve", {}),
        ("measure", {"measure": measure.pk, "status": "done"}),
    ]:
        response = client.post(reverse("risk:assessment_transition", args=[pk, action]), data)
        assert response.status_code == 302
    response = client.post(
        reverse("risk:assessment_add", args=[pk, "event"]),
        event(description="Added by NRC"),
    )
    assert response.status_code == 302
    assert Assessment.objects.count() == 1
    assessment.refresh_from_db()
    assert assessment.status == rc.AssessmentStatus.APPROVED
    assert Measure.objects.get(pk=measure.pk).status == measure.status
    assert not assessment.threat_events.filter(description="Added by NRC").exists()
    assert AuditEntry.objects.count() == before


# ------------------------------------------------------------------------------ the pages


@pytest.fixture
def shared_record(undp, nrc, ada, nadia, author, approver, reporter, area):
    """UNDP's approved TLP:AMBER assessment of Juba shared with NRC, an activity and premises of
    UNDP there, and four UNDP incidents in the area last month (GREEN, AMBER, AMBER+STRICT,
    RED): NRC may count the first two."""
    assessment = make_assessment(author, area, approver=approver)
    make_activity_area(undp, area, code="UNDP-7", name="Cash for work in Juba")
    premises = Premises.objects.create(
        organisation=undp, area=area, name="UNDP guest house", kind="residence", country="SS"
    )
    day = datetime.date.today() - datetime.timedelta(days=20)
    for marking in (TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED):
        incident = make_incident(reporter, undp, marking=marking, date=day)
        incident_services.submit(incident, reporter)
    share(undp, nrc, ada, nadia)
    return assessment, premises


def test_the_recipient_reads_the_list_and_the_detail_without_actions(
    client, shared_record, outsider, author
):
    assessment, _premises = shared_record
    client.force_login(outsider)
    listing = client.get(reverse("risk:assessments"))
    assert listing.status_code == 200
    assert reverse("risk:assessment", args=[assessment.pk]) in listing.text
    assert "New assessment" not in listing.text  # NRC's omar has no NRC area yet

    page = client.get(reverse("risk:assessment", args=[assessment.pk]))
    assert page.status_code == 200
    text = page.text
    assert "Transitional government; elections postponed." in text
    assert "Armed robbery of a vehicle on the main road" in text
    assert "An assessment of UNDP, shared with you: you may read it, not change it." in text
    for button in (
        "Submit for approval",
        "Approve</button>",
        "Send back to draft",
        "Start a revision",
        "Add the threat event",
        'name="measure"',
    ):
        assert button not in text
    assert not any(page.context["actions"].values())
    # The trend goes through the incidents' door: NRC counts GREEN and the shared AMBER.
    assert page.context["trend"].total_last == 2
    client.force_login(author)
    assert (
        client.get(reverse("risk:assessment", args=[assessment.pk])).context["trend"].total_last
        == 3
    )  # UNDP also counts its AMBER+STRICT incident


def test_the_recipient_s_pdf_holds_the_record_but_not_the_provider_s_activities(
    client, shared_record, outsider, monkeypatch
):
    assessment, _premises = shared_record
    rendered = []
    original = views.render_to_string

    def keep(*args, **kwargs):
        rendered.append(original(*args, **kwargs))
        return rendered[-1]

    monkeypatch.setattr(views, "render_to_string", keep)
    client.force_login(outsider)
    response = client.get(reverse("risk:assessment_pdf", args=[assessment.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert "Transitional government" in rendered[0]
    assert "Cash for work in Juba" not in rendered[0] and "UNDP-7" not in rendered[0]
    assert "Shared by UNDP: its activities and go / no-go decisions are not shared." in rendered[0]


def test_the_provider_s_activities_decisions_and_premises_stay_hidden(
    client, shared_record, outsider, undp
):
    assessment, premises = shared_record
    activity_area = assessment.area.activities.get()
    client.force_login(outsider)
    matrix = client.get(reverse("risk:decisions"))
    assert matrix.status_code == 200
    assert "Cash for work in Juba" not in matrix.text and "UNDP-7" not in matrix.text
    assert "Juba" not in [name for _pk, name, _c in matrix.context["areas"]]
    assert client.get(reverse("risk:decision", args=[activity_area.pk])).status_code == 404
    assert client.post(reverse("risk:decision", args=[activity_area.pk])).status_code == 404
    assert "UNDP guest house" not in client.get(reverse("risk:premises_list")).text
    assert client.get(reverse("risk:premises", args=[premises.pk])).status_code == 404


def test_links_to_other_assessments_of_the_area_go_only_where_the_door_lets_them(
    client, undp, nrc, ada, nadia, author, approver, outsider, area
):
    """UNDP approved a TLP:AMBER+STRICT assessment of Juba, then a TLP:AMBER one, then a
    TLP:AMBER+STRICT one again: NRC reads the middle one and is led to neither of the others."""
    first = make_assessment(author, area, approver=approver, marking=TLP.AMBER_STRICT)
    middle = make_assessment(author, area, approver=approver, marking=TLP.AMBER)
    last = make_assessment(author, area, approver=approver, marking=TLP.AMBER_STRICT)
    middle.refresh_from_db()
    assert middle.status == rc.AssessmentStatus.SUPERSEDED and middle.superseded_by == last
    share(undp, nrc, ada, nadia)

    client.force_login(outsider)
    page = client.get(reverse("risk:assessment", args=[middle.pk]))
    assert page.status_code == 200
    assert "Superseded by a later assessment." in page.text
    assert reverse("risk:assessment", args=[last.pk]) not in page.text
    assert reverse("risk:assessment", args=[first.pk]) not in page.text
    assert list(page.context["superseded"]) == []
    for hidden in (first, last):
        assert client.get(reverse("risk:assessment", args=[hidden.pk])).status_code == 404
        assert client.get(reverse("risk:assessment_pdf", args=[hidden.pk])).status_code == 404

    client.force_login(author)  # UNDP is led to both
    page = client.get(reverse("risk:assessment", args=[middle.pk]))
    assert reverse("risk:assessment", args=[last.pk]) in page.text
    assert reverse("risk:assessment", args=[first.pk]) in page.text


def test_a_draft_or_a_submitted_assessment_stays_hidden_from_the_recipient(
    client, undp, nrc, ada, nadia, author, outsider, area
):
    draft = make_assessment(author, area)
    submitted = make_assessment(author, make_area(undp, "Yei", "SS"))
    services.submit(user=author, assessment=submitted)
    share(undp, nrc, ada, nadia)
    client.force_login(outsider)
    for hidden in (draft, submitted):
        assert client.get(reverse("risk:assessment", args=[hidden.pk])).status_code == 404
    assert "Juba" not in client.get(reverse("risk:assessments")).text


def test_the_api_says_whether_an_agreement_shares_assessments(client, undp, nrc, ada, nadia):
    with_them = share(undp, nrc, ada, nadia, countries=["SS"])
    without = share(undp, nrc, ada, nadia, countries=["SD"], assessments=False)
    _key, token = keys.issue(nrc, "NRC hub")
    response = client.get("/api/v1/shared", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    flags = {row["id"]: row["assessments"] for row in response.json()}
    assert flags == {with_them.pk: True, without.pk: False}
