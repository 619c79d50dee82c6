"""The risk pages through real HTTP (Django's test client): who sees what, the workflow
buttons, the go / no-go matrix, the PDF record, premises."""

import datetime

import pytest
from django.urls import reverse

from salama.conftest import make_incident
from salama.core.models import AuditEntry
from salama.incidents import services as incident_services
from salama.risk import choices as rc
from salama.risk import services
from salama.risk.conftest import event, make_activity_area, make_area, make_assessment
from salama.risk.models import Assessment, Premises, RiskAcceptance

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_sign_in(client, author, area):
    assessment = make_assessment(author, area)
    for url in (
        reverse("risk:assessments"),
        reverse("risk:assessment", args=[assessment.pk]),
        reverse("risk:decisions"),
        reverse("risk:premises_list"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_outsider_cannot_open_an_amber_assessment(client, author, outsider, area):
    assessment = make_assessment(author, area, marking="AMBER")
    services.submit(user=author, assessment=assessment)
    response = signed_in(client, outsider).get(reverse("risk:assessment", args=[assessment.pk]))
    assert response.status_code == 404
    assert area.name not in signed_in(client, outsider).get(reverse("risk:assessments")).text


def test_the_detail_shows_the_trend_and_flags_a_contradicted_rating(
    client, author, reporter, undp, area
):
    assessment = make_assessment(
        author, area, events=[event(rc.Likelihood.UNLIKELY, description="Carjacking")]
    )
    today = datetime.date.today()
    for days in (5, 40):
        incident = make_incident(reporter, undp, date=today - datetime.timedelta(days=days))
        incident_services.submit(incident, reporter)
    page = signed_in(client, author).get(reverse("risk:assessment", args=[assessment.pk])).text
    assert "Incident trend of the area" in page
    assert "Review suggested" in page
    assert "Likelihood of “Carjacking”: Unlikely. Yet 2 incidents" in page


def test_create_submit_approve_through_the_pages(client, author, approver, area):
    client = signed_in(client, author)
    response = client.post(
        reverse("risk:assessment_new"),
        {
            "area": area.pk,
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "review_date": "2026-06-30",
            "marking": "AMBER",
        },
    )
    assessment = Assessment.objects.get()
    assert response["Location"] == reverse("risk:assessment", args=[assessment.pk])
    response = client.post(
        reverse("risk:assessment_add", args=[assessment.pk, "event"]),
        event(rc.Likelihood.LIKELY, rc.Impact.SEVERE, residual=("unlikely", "severe")),
    )
    assert assessment.threat_events.get().residual_risk == "medium"
    client.post(
        reverse("risk:assessment_add", args=[assessment.pk, "measure"]),
        {
            "kind": "preventive",
            "description": "Movement plans",
            "owner": "FSA",
            "status": "planned",
            "threat_event": assessment.threat_events.get().pk,
        },
    )
    assert assessment.measures.count() == 1
    client.post(reverse("risk:assessment_transition", args=[assessment.pk, "submit"]))
    assessment.refresh_from_db()
    assert assessment.status == "submitted"
    # the author cannot approve their own
    client.post(reverse("risk:assessment_transition", args=[assessment.pk, "approve"]))
    assert Assessment.objects.get().status == "submitted"
    client.logout()
    signed_in(client, approver).post(
        reverse("risk:assessment_transition", args=[assessment.pk, "approve"])
    )
    assert Assessment.objects.get().status == "approved"


def test_the_new_assessment_form_refuses_a_reversed_period(client, author, area):
    response = signed_in(client, author).post(
        reverse("risk:assessment_new"),
        {
            "area": area.pk,
            "period_start": "2026-12-31",
            "period_end": "2026-01-01",
            "review_date": "2026-06-30",
            "marking": "AMBER",
        },
    )
    assert response.status_code == 200
    assert "The period ends before it starts." in response.text
    assert not Assessment.objects.exists()


def test_the_matrix_page_colours_each_decision(client, undp, author, approver, head):
    area = make_area(undp, "Bor", admin1=("Jonglei",))
    high = event(residual=(rc.Likelihood.LIKELY, rc.Impact.SEVERE))
    make_assessment(author, area, events=[high], approver=approver)
    go = make_activity_area(undp, area, code="A1")
    make_activity_area(undp, area, code="A2", pc1=True, pc1_reason="Life-saving")
    make_activity_area(undp, area, code="A3", contribution=1, implementation_likelihood=1)
    services.accept_risk(user=approver, activity_area=go)
    page = signed_in(client, author).get(reverse("risk:decisions")).text
    assert page.count('class="cell-go"') == 1
    assert page.count('class="cell-needs_approval"') == 1
    assert page.count('class="cell-no_go"') == 1
    assert "risk.css" in page


def test_the_matrix_page_shows_only_the_own_organisations_activities(
    client, undp, author, outsider
):
    make_activity_area(undp, make_area(undp, "Bor"), code="SECRET-1")
    page = signed_in(client, outsider).get(reverse("risk:decisions")).text
    assert "SECRET-1" not in page


def test_the_matrix_page_pins_its_query_count(
    client, undp, author, approver, django_assert_max_num_queries
):
    for n in range(6):
        area = make_area(undp, f"Area {n}")
        make_assessment(author, area, approver=approver)
        for m in range(8):
            make_activity_area(undp, area, code=f"OUT-{m}")
    client = signed_in(client, author)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("risk:decisions"))
    assert response.text.count('class="cell-needs_approval"') == 48


def test_accepting_from_the_decision_page(client, undp, author, approver, outside_approver):
    area = make_area(undp, "Bor")
    make_assessment(author, area, approver=approver)
    item = make_activity_area(undp, area)
    url = reverse("risk:decision", args=[item.pk])
    page = signed_in(client, approver).get(url).text
    assert "Accept the residual risk" in page
    client.post(url, {"note": "Two-vehicle movement only"})
    acceptance = RiskAcceptance.objects.get()
    assert acceptance.approved_by == approver and acceptance.note == "Two-vehicle movement only"
    client.logout()
    # an approver of another organisation does not even find the page
    assert signed_in(client, outside_approver).get(url).status_code == 404


def test_the_pdf_record_is_a_pdf_with_the_decisions(client, undp, author, approver):
    area = make_area(undp, "Bor")
    assessment = make_assessment(author, area, approver=approver)
    make_activity_area(undp, area, code="PDF-1")
    response = signed_in(client, author).get(reverse("risk:assessment_pdf", args=[assessment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert len(response.content) > 5000


def test_premises_checklist_opens_a_finding_for_a_no(client, undp, reporter, outsider):
    premises = Premises.objects.create(
        organisation=undp, name="Juba office", kind=rc.PremisesKind.OFFICE, country="SS"
    )
    url = reverse("risk:premises", args=[premises.pk])
    page = signed_in(client, reporter).get(url).text
    items = services.checklist_for(premises)
    assert "Emblem" not in page  # health facilities only
    assert items and all("office" in item.kinds for item in items)
    client.post(url, {f"item-{items[0].pk}": "no", f"item-{items[1].pk}": "yes"})
    assert premises.answers.count() == 2
    finding = premises.findings.get()
    assert finding.item == items[0] and finding.status == "open"
    assert AuditEntry.objects.filter(action="risk.premises.check").count() == 2
    client.post(url, {f"item-{items[0].pk}": "no"})
    assert premises.findings.count() == 1  # one open finding per item
    client.logout()
    assert signed_in(client, outsider).get(url).status_code == 404


def test_a_threat_category_is_rated_once_per_draft(client, author, outsider, area):
    assessment = make_assessment(author, area, events=[])  # its crime rating is already there
    url = reverse("risk:assessment_add", args=[assessment.pk, "general"])
    rating = {"intent": 3, "capability": 4, "inhibiting_context": 2, "notes": "Attacks on camps"}
    signed_in(client, author).post(url, rating | {"category": "armed_conflict"})
    assert assessment.general_threats.count() == 2
    response = client.post(url, rating | {"category": "crime"}, follow=True)
    assert assessment.general_threats.count() == 2
    assert "already exists" in response.text
    client.logout()
    signed_in(client, outsider).post(url, rating | {"category": "terrorism"})
    assert assessment.general_threats.count() == 2


def test_the_matrix_page_pages_through_areas_as_well(client, undp, author, monkeypatch):
    from salama.risk import views

    monkeypatch.setattr(views, "AREAS_PER_PAGE", 2)
    for name in ("Aweil", "Bor", "Wau"):
        make_activity_area(undp, make_area(undp, name), code="OUT-1")
    client = signed_in(client, author)
    first = client.get(reverse("risk:decisions")).text
    second = client.get(reverse("risk:decisions"), {"areas": "2"}).text
    assert ">Aweil<" in first and ">Bor<" in first and ">Wau<" not in first
    assert ">Wau<" in second and ">Aweil<" not in second
    assert "Areas 1–2 of 3." in first and "Next areas" in first
    assert first.count('class="cell-no_go"') == 2 and second.count('class="cell-no_go"') == 1


def test_a_finding_is_closed_from_the_premises_page_and_overdue_ones_are_counted(
    client, undp, reporter
):
    premises = Premises.objects.create(
        organisation=undp, name="Bor warehouse", kind=rc.PremisesKind.WAREHOUSE, country="SS"
    )
    old = services.add_finding(
        user=reporter,
        premises=premises,
        fields={
            "description": "Gate lock broken",
            "corrective_action": "Replace the lock",
            "owner": "Logistics",
            "due_date": datetime.date(2020, 1, 1),
        },
    )
    client = signed_in(client, reporter)
    listing = client.get(reverse("risk:premises_list")).text
    assert '<span class="flag">1</span>' in listing
    client.post(reverse("risk:premises", args=[premises.pk]), {"close": old.pk})
    old.refresh_from_db()
    assert old.status == "done" and old.closed_on == datetime.date.today()
    assert AuditEntry.objects.filter(action="risk.premises.finding").count() == 2


def test_the_assessment_page_shows_its_history(client, author, approver, area):
    assessment = make_assessment(author, area, approver=approver)
    page = signed_in(client, author).get(reverse("risk:assessment", args=[assessment.pk])).text
    for action in ("risk.assessment.create", "risk.assessment.submit", "risk.assessment.approve"):
        assert action in page


def test_rating_criticality_from_the_decision_page_sends_an_acceptance_back(
    client, undp, author, approver
):
    area = make_area(undp, "Bor")
    make_assessment(author, area, approver=approver)
    item = make_activity_area(undp, area)
    services.accept_risk(user=approver, activity_area=item)
    url = reverse("risk:decision", args=[item.pk])
    client = signed_in(client, author)
    response = client.post(url, {"action": "criticality", "pc1": "on"}, follow=True)
    assert "Say why the activity is PC1." in response.text
    item.refresh_from_db()
    assert item.pc_level == "PC2"
    client.post(
        url,
        {"action": "criticality", "pc1": "on", "pc1_reason": "Life-saving at scale"},
    )
    item.refresh_from_db()
    assert item.pc_level == "PC1"
    assert services.decision_for(item, datetime.date.today()).outcome.codes == ["pc_level_changed"]
    assert AuditEntry.objects.filter(action="risk.activity.criticality").count() == 1
    client.post(
        url, {"action": "criticality", "contribution": "1", "implementation_likelihood": "1"}
    )
    item.refresh_from_db()
    assert item.pc_level == "PC4"


def test_measures_are_tracked_after_approval_by_the_organisation_only(
    client, author, approver, outsider, area
):
    assessment = make_assessment(author, area, approver=approver)
    measure = assessment.measures.get()
    url = reverse("risk:assessment_transition", args=[assessment.pk, "measure"])
    signed_in(client, approver).post(url, {"measure": measure.pk, "status": "implemented"})
    measure.refresh_from_db()
    assert measure.status == "implemented"
    entry = AuditEntry.objects.get(action="risk.measure.status")
    assert entry.before["status"] == "planned" and entry.after["status"] == "implemented"
    response = client.post(url, {"measure": measure.pk, "status": "vanished"}, follow=True)
    assert "Unknown status" in response.text
    client.logout()
    signed_in(client, outsider).post(url, {"measure": measure.pk, "status": "dropped"})
    measure.refresh_from_db()
    assert measure.status == "implemented"
