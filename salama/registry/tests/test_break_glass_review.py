"""The organisation admin's page of break-glass uses, and the "reviewed" action."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from salama.conftest import make_user
from salama.core.models import AuditEntry
from salama.organisations.choices import Role
from salama.organisations.models import Membership
from salama.registry import choices as rc
from salama.registry import services
from salama.registry.conftest import IDENTITY, make_case, make_officer
from salama.registry.models import BreakGlass

REASON = "Survivor hospitalised; next of kin must be reached now."


@pytest.fixture
def grant(sv_case, second_officer):
    return services.break_glass(sv_case, second_officer, REASON)


@pytest.fixture
def foreign_admin(nrc):
    return make_user("nils", nrc, roles=(Role.ORG_ADMIN,))


@pytest.fixture
def foreign_grant(nrc, foreign_officer):
    """A break-glass use in another organisation (NRC)."""
    case = make_case(foreign_officer, nrc, offence=rc.Offence.SEXUAL_ASSAULT)
    other = make_officer("nora", nrc)
    return services.break_glass(case, other, "Emergency evacuation of the survivor tonight.")


def test_the_admin_sees_who_which_case_when_why_and_until_when(
    client, org_admin, grant, sv_case, foreign_grant
):
    client.force_login(org_admin)
    page = client.get(reverse("registry:break_glass_log"))
    assert page.status_code == 200
    assert list(page.context["to_review"]) == [grant]  # not the other organisation's
    text = page.text
    assert "cyril" in text and sv_case.reference in text and REASON in text
    assert f"{timezone.localtime(grant.at):%Y-%m-%d %H:%M}" in text
    assert f"{timezone.localtime(grant.expires_at):%Y-%m-%d %H:%M}" in text
    assert "still active" in text and "Mark reviewed" in text
    assert foreign_grant.case.reference not in text
    assert IDENTITY["name"] not in text  # who and which case, never the person


def test_marking_reviewed_records_who_and_when_and_is_audited(client, org_admin, grant):
    client.force_login(org_admin)
    url = reverse("registry:break_glass_review", args=[grant.pk])
    assert client.get(url).status_code == 405  # a change: POST only
    assert client.post(url).status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == org_admin
    assert timezone.now() - grant.reviewed_at < datetime.timedelta(minutes=1)
    entry = AuditEntry.objects.get(action="registry:break_glass:review")
    assert entry.actor == org_admin and entry.object_id == str(grant.case_id)
    assert entry.after["break_glass"] == grant.pk and entry.after["user"] == grant.user_id
    page = client.get(reverse("registry:break_glass_log"))
    assert list(page.context["to_review"]) == [] and list(page.context["reviewed"]) == [grant]
    assert "ada" in page.text
    # Twice is refused, and not logged twice.
    again = client.post(url, follow=True)
    assert "already reviewed by ada" in again.text
    assert AuditEntry.objects.filter(action="registry:break_glass:review").count() == 1


@pytest.mark.parametrize(
    "persona", ["officer", "second_officer", "analyst", "endorser", "foreign_officer"]
)
def test_no_one_but_the_organisation_admin_sees_or_reviews(client, request, grant, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(reverse("registry:break_glass_log")).status_code == 403
    review = client.post(reverse("registry:break_glass_review", args=[grant.pk]))
    assert review.status_code == 404
    grant.refresh_from_db()
    assert grant.reviewed_at is None
    with pytest.raises(PermissionDenied):
        services.review_break_glass(grant, user)


def test_an_admin_of_another_organisation_neither_sees_nor_reviews(
    client, foreign_admin, grant, foreign_grant
):
    client.force_login(foreign_admin)
    page = client.get(reverse("registry:break_glass_log"))
    assert page.status_code == 200
    assert list(page.context["to_review"]) == [foreign_grant]
    assert grant.case.reference not in page.text and REASON not in page.text
    assert client.post(reverse("registry:break_glass_review", args=[grant.pk])).status_code == 404
    grant.refresh_from_db()
    assert grant.reviewed_at is None
    with pytest.raises(PermissionDenied):
        services.review_break_glass(grant, foreign_admin)


def test_anonymous_visitors_are_sent_to_sign_in(client, grant):
    for url in (
        reverse("registry:break_glass_log"),
        reverse("registry:focal_points"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_expired_grant_is_listed_without_the_active_flag(client, org_admin, grant):
    BreakGlass.objects.filter(pk=grant.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    client.force_login(org_admin)
    page = client.get(reverse("registry:break_glass_log"))
    assert list(page.context["to_review"]) == [grant] and "still active" not in page.text


def test_registry_pages_link_the_admin_pages_for_organisation_admins(
    client, org_admin, officer, undp
):
    log, focal = reverse("registry:break_glass_log"), reverse("registry:focal_points")
    # An admin who is no case officer lands on the registry's refusal page, with the links.
    client.force_login(org_admin)
    refusal = client.get(reverse("registry:list"))
    assert refusal.status_code == 403 and log in refusal.text and focal in refusal.text
    figures_page = client.get(reverse("registry:figures"))
    assert log in figures_page.text and focal in figures_page.text
    # An admin who is also a case officer has them on the case list.
    Membership.objects.create(user=officer, organisation=undp, role=Role.ORG_ADMIN)
    client.force_login(officer)
    listing = client.get(reverse("registry:list"))
    assert log in listing.text and focal in listing.text


def test_other_people_get_no_links(client, officer, analyst):
    log = reverse("registry:break_glass_log")
    client.force_login(officer)
    assert log not in client.get(reverse("registry:list")).text
    client.force_login(analyst)
    assert log not in client.get(reverse("registry:figures")).text
    assert log not in client.get(reverse("registry:list")).text
