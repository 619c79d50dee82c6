"""The permission door, page by page, for each persona."""

import pytest
from django.core import mail
from django.urls import reverse

from salama.conftest import PASSWORD
from salama.core.models import AuditEntry
from salama.registry import services
from salama.registry.conftest import IDENTITY


def _client(client, user):
    client.force_login(user)
    return client


def _pages(case):
    ref = case.reference
    return [
        reverse("registry:detail", args=[ref]),
        reverse("registry:identity", args=[ref]),
        reverse("registry:identity_edit", args=[ref]),
        reverse("registry:edit", args=[ref]),
        reverse("registry:follow_up", args=[ref]),
        reverse("registry:milestone", args=[ref]),
        reverse("registry:detention", args=[ref]),
        reverse("registry:abduction", args=[ref]),
        reverse("registry:summary", args=[ref]),
        reverse("registry:summary_pdf", args=[ref]),
    ]


def test_case_officer_of_the_organisation_sees_everything(client, officer, case):
    c = _client(client, officer)
    for url in _pages(case):
        assert c.get(url).status_code == 200, url
    listing = c.get(reverse("registry:list"))
    assert case.reference in listing.text
    assert IDENTITY["name"] not in listing.text  # the list is pseudonymous
    detail = c.get(reverse("registry:detail", args=[case.reference]))
    assert IDENTITY["name"] not in detail.text  # shown only on request
    shown = c.get(reverse("registry:identity", args=[case.reference]))
    assert IDENTITY["name"] in shown.text
    pdf = c.get(reverse("registry:summary_pdf", args=[case.reference]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    printable = c.get(reverse("registry:summary", args=[case.reference]))
    assert IDENTITY["staff_number"] in printable.text and "Timeline" in printable.text


def test_every_view_of_an_identity_is_logged(client, officer, case):
    c = _client(client, officer)
    before = AuditEntry.objects.filter(action="registry:identity:view").count()
    c.get(reverse("registry:identity", args=[case.reference]))
    c.get(reverse("registry:identity", args=[case.reference]), HTTP_HX_REQUEST="true")
    c.get(reverse("registry:summary", args=[case.reference]))
    c.get(reverse("registry:summary_pdf", args=[case.reference]))
    entries = AuditEntry.objects.filter(action="registry:identity:view").order_by("seq")
    assert entries.count() == before + 4
    last = entries.last()
    assert last.actor == officer and last.object_id == str(case.pk)
    assert IDENTITY["name"] not in str(last.after)  # the log names fields, never values


@pytest.mark.parametrize("persona", ["foreign_officer", "analyst", "endorser"])
def test_no_one_else_gets_in(client, request, case, persona):
    user = request.getfixturevalue(persona)
    c = _client(client, user)
    for url in _pages(case):
        assert c.get(url).status_code == 404, url
    listing = c.get(reverse("registry:list"))
    if persona == "foreign_officer":  # a case officer: their own list, without this case
        assert listing.status_code == 200 and case.reference not in listing.text
    else:
        assert listing.status_code == 403
    assert c.post(reverse("registry:decide", args=[case.reference, "close"])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, case):
    for url in [reverse("registry:list"), *_pages(case)]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_analyst_sees_figures_but_no_identity(client, analyst, case):
    response = _client(client, analyst).get(reverse("registry:figures"))
    assert response.status_code == 200
    assert IDENTITY["name"] not in response.text


def test_foreign_officer_figures_do_not_count_other_organisations(client, foreign_officer, case):
    response = _client(client, foreign_officer).get(reverse("registry:figures"))
    assert response.status_code == 200
    assert response.context["figures"]["rows"] == []


def test_sexual_violence_case_is_seen_only_by_named_officers(
    client, sv_case, officer, second_officer, org_admin
):
    assert (
        _client(client, officer)
        .get(reverse("registry:identity", args=[sv_case.reference]))
        .status_code
        == 200
    )
    c = _client(client, second_officer)
    page = c.get(reverse("registry:detail", args=[sv_case.reference]))
    assert page.status_code == 403 and "Break the glass" in page.text
    assert IDENTITY["name"] not in page.text
    assert sv_case.reference not in c.get(reverse("registry:list")).text
    for url in _pages(sv_case)[1:]:
        assert c.get(url).status_code == 404, url
    # Naming the second officer (with the survivor's consent to sharing) opens the case to them.
    services.record_consent(
        sv_case, officer, use="sharing", given=True, recorded_on=sv_case.opened_on
    )
    services.name_officer(sv_case, officer, second_officer)
    assert c.get(reverse("registry:identity", args=[sv_case.reference])).status_code == 200


def test_break_glass_asks_a_reason_logs_and_tells_the_admin(
    client, sv_case, second_officer, org_admin, foreign_officer
):
    c = _client(client, second_officer)
    url = reverse("registry:break_glass", args=[sv_case.reference])
    refused = c.post(url, {"reason": "need"})
    assert refused.status_code == 400
    assert c.get(reverse("registry:identity", args=[sv_case.reference])).status_code == 404
    granted = c.post(url, {"reason": "Survivor hospitalised; next of kin must be reached now."})
    assert granted.status_code == 302
    assert c.get(reverse("registry:identity", args=[sv_case.reference])).status_code == 200
    entry = AuditEntry.objects.get(action="registry:break_glass")
    assert entry.actor == second_officer and "hospitalised" in entry.after["reason"]
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert sv_case.reference in mail.outbox[0].subject
    assert IDENTITY["name"] not in mail.outbox[0].body
    assert reverse("registry:break_glass_log") in mail.outbox[0].body  # where to review it
    # An officer of another organisation cannot break the glass.
    other = _client(client, foreign_officer)
    assert other.post(url, {"reason": "I would like to see it please."}).status_code == 404


def test_break_glass_expires(sv_case, second_officer):
    import datetime

    from django.utils import timezone

    from salama.registry.models import BreakGlass, Case

    services.break_glass(sv_case, second_officer, "Emergency: medical evacuation needs the name.")
    assert Case.objects.visible_to(second_officer).filter(pk=sv_case.pk).exists()
    BreakGlass.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert not Case.objects.visible_to(second_officer).filter(pk=sv_case.pk).exists()


def test_sign_in_for_real_then_list(client, officer, case):
    signed = client.post(reverse("login"), {"username": "cora", "password": PASSWORD})
    assert signed.status_code == 302
    assert client.get(reverse("registry:list")).status_code == 200
