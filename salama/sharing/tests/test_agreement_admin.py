"""Agreements in the Django admin: listed read-only, ended only through ``agreements.end`` (so
only on the sides the admin user administers), each refusal named."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from salama.conftest import make_organisation, make_user
from salama.core.models import AuditEntry
from salama.organisations.choices import OrganisationType, Role
from salama.sharing import agreements
from salama.sharing.models import Agreement

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:sharing_agreement_changelist"


@pytest.fixture
def staff(undp):
    """A staff user who may view agreements in the admin and administers UNDP (only)."""
    user = make_user("sam", undp, roles=(Role.ORG_ADMIN,))
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_agreement"))
    return user


@pytest.fixture
def pair(undp, nrc, staff):
    """UNDP → NRC, in force; NRC → WFP, proposed: the staff user is on one side of the first
    only."""
    wfp = make_organisation("WFP", OrganisationType.UN_AFP, "World Food Programme")
    nrc_admin = make_user("nils", nrc, roles=(Role.ORG_ADMIN,))
    ours = agreements.propose(undp, nrc, level="full", purpose="SLT Juba", by=staff)
    ours = agreements.accept(ours, by=nrc_admin)
    theirs = agreements.propose(nrc, wfp, level="aggregate", purpose="SLT Khartoum", by=nrc_admin)
    return ours, theirs


def test_the_changelist_lists_agreements_read_only(client, staff, pair):
    client.force_login(staff)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    page = response.text
    for text in ("UNDP", "NRC", "WFP", "Full records", "Aggregate figures only"):
        assert text in page
    assert "In force" in page and "Proposed, awaiting the recipient" in page
    assert "End the selected agreements" in page
    assert "Delete selected" not in page
    assert reverse("admin:sharing_agreement_add") not in page
    # Search by acronym and filter by level.
    assert client.get(reverse(CHANGELIST), {"q": "wfp"}).context["cl"].result_count == 1
    assert client.get(reverse(CHANGELIST), {"level": "full"}).context["cl"].result_count == 1

    ours, _ = pair
    view = client.get(reverse("admin:sharing_agreement_change", args=[ours.pk]))
    assert view.status_code == 200 and "SLT Juba" in view.text
    assert 'name="_save"' not in view.text
    assert client.post(reverse("admin:sharing_agreement_change", args=[ours.pk])).status_code == (
        403
    )
    assert client.get(reverse("admin:sharing_agreement_add")).status_code == 403
    delete = reverse("admin:sharing_agreement_delete", args=[ours.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Agreement.objects.count() == 2


def test_the_action_ends_what_the_user_administers_and_names_the_rest(client, staff, pair):
    ours, theirs = pair
    client.force_login(staff)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "end", "_selected_action": [ours.pk, theirs.pk], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    said = {(m.level_tag, str(m)) for m in response.context["messages"]}
    assert ("success", "Ended: UNDP → NRC (Full records).") in said
    assert (
        "error",
        "Not ended: NRC → WFP (Aggregate figures only). "
        "Only an organisation admin of either side may end it.",
    ) in said
    assert "Not ended: NRC → WFP (Aggregate figures only)." in response.text

    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.state() == "ended" and ours.ended_by == staff
    assert theirs.state() == "proposed" and theirs.ended_at is None
    entry = AuditEntry.objects.filter(action="agreement:end").get()
    assert entry.actor == staff and entry.object_id == str(ours.pk)

    # Ending it again is refused and said, not a crash.
    response = client.post(
        reverse(CHANGELIST),
        {"action": "end", "_selected_action": [ours.pk], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    assert (
        "Not ended: UNDP → NRC (Full records). "
        "This agreement can no longer change this way: it is “Ended”." in response.text
    )
    assert "No agreement was ended." in response.text
    assert AuditEntry.objects.filter(action="agreement:end").count() == 1


def test_a_superuser_who_administers_neither_side_ends_nothing(admin_client, pair):
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "end", "_selected_action": [a.pk for a in pair], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    assert response.text.count("Only an organisation admin of either side may end it.") == 2
    assert not Agreement.objects.filter(ended_at__isnull=False).exists()
