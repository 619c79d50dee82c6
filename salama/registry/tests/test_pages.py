import datetime

from django.urls import reverse
from django.utils import timezone

from salama.core.models import AuditEntry
from salama.registry import choices as rc
from salama.registry import services
from salama.registry.conftest import IDENTITY
from salama.registry.models import Case


def test_open_a_case_by_hand_then_record_the_identity(client, officer, undp):
    client.force_login(officer)
    response = client.post(
        reverse("registry:new"),
        {
            "organisation": undp.pk,
            "offence": rc.Offence.ARREST_DETENTION,
            "country": "SD",
            "date": (timezone.localdate() - datetime.timedelta(days=12)).isoformat(),
            "perpetrator_type": "state_host",
            "gender": "male",
            "recruitment": "national",
            "focal_point": "Public Prosecutor",
        },
    )
    case = Case.objects.get()
    assert response["Location"] == reverse("registry:identity", args=[case.reference])
    assert case.status == rc.CaseStatus.OPEN and case.owner == officer
    edit = reverse("registry:identity_edit", args=[case.reference])
    saved = client.post(edit, {"name": IDENTITY["name"], "version": case.version})
    assert saved.status_code == 302
    assert services.read_identity(case, officer)["name"] == IDENTITY["name"]
    detention = client.post(
        reverse("registry:detention", args=[case.reference]),
        {
            "authority": "state",
            "charges": "None stated",
            "immunity_invoked": "true",
            "version": Case.objects.get().version,
        },
    )
    assert detention.status_code == 302
    page = client.get(reverse("registry:detail", args=[case.reference]))
    assert "Days held" in page.text and ">12<" in page.text


def test_a_future_date_is_refused_on_the_form(client, officer, undp):
    client.force_login(officer)
    response = client.post(
        reverse("registry:new"),
        {
            "organisation": undp.pk,
            "offence": rc.Offence.KILLING,
            "country": "SD",
            "date": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(),
            "gender": "male",
            "recruitment": "national",
        },
    )
    assert response.status_code == 200 and "future" in response.text
    assert not Case.objects.exists()


def test_identity_partial_for_htmx_is_logged(client, officer, case):
    client.force_login(officer)
    response = client.get(
        reverse("registry:identity", args=[case.reference]), HTTP_HX_REQUEST="true"
    )
    assert IDENTITY["next_of_kin"] in response.text and "<html" not in response.text
    assert AuditEntry.objects.filter(action="registry:identity:view").count() == 1


def test_proposals_are_announced_above_the_list(client, officer, undp, case):
    Case.objects.filter(pk=case.pk).update(status=rc.CaseStatus.PROPOSED)
    client.force_login(officer)
    response = client.get(reverse("registry:list"))
    assert response.context["proposals_waiting"] == 1
    assert "await" in response.text


def test_figures_page_labels_table_g(client, officer, case):
    services.update_case(
        case.pk,
        user=officer,
        expected_version=case.version,
        detention={"authority": rc.DetainingAuthority.DE_FACTO},
    )
    client.force_login(officer)
    response = client.get(reverse("registry:figures"))
    assert "De facto authority" in response.text and case.reference in response.text
    assert IDENTITY["name"] not in response.text


def test_naming_an_officer_from_the_page(client, officer, second_officer, sv_case):
    services.record_consent(
        sv_case, officer, use=rc.ConsentUse.SHARING, given=True, recorded_on=sv_case.opened_on
    )
    client.force_login(officer)
    response = client.post(
        reverse("registry:name_officer", args=[sv_case.reference]),
        {"officer": second_officer.pk},
    )
    assert response.status_code == 302
    assert Case.objects.visible_to(second_officer).filter(pk=sv_case.pk).exists()
