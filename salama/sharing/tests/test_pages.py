"""The API keys page, as an organisation admin and as anyone else."""

import pytest
from django.urls import reverse

from salama.conftest import make_user
from salama.organisations.choices import Role
from salama.sharing import keys
from salama.sharing.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_of_undp(undp):
    return make_user("ada", undp, roles=(Role.ORG_ADMIN,))


def test_an_admin_makes_a_key_sees_its_token_once_and_revokes_it(client, admin_of_undp, undp):
    client.force_login(admin_of_undp)
    page = client.get(reverse("sharing:keys"))
    assert page.status_code == 200 and "No key yet." in page.text

    made = client.post(
        reverse("sharing:key_create", args=[undp.pk]), {"name": "UNDP data hub", "days": "90"}
    )
    assert made.status_code == 200
    key = ApiKey.objects.get(organisation=undp)
    token = made.context["new_token"]
    assert token in made.text and keys.authenticate(token) == key
    assert (key.expires_at - key.created_at).days == 90 and key.created_by == admin_of_undp
    # Shown once: the page does not show it again.
    assert token not in client.get(reverse("sharing:keys")).text

    revoked = client.post(reverse("sharing:key_revoke", args=[key.prefix]), follow=True)
    assert "revoked" in revoked.text
    assert keys.authenticate(token) is None


def test_a_key_needs_a_name(client, admin_of_undp, undp):
    client.force_login(admin_of_undp)
    answer = client.post(reverse("sharing:key_create", args=[undp.pk]), {"name": " ", "days": ""})
    assert answer.status_code == 400 and not ApiKey.objects.exists()


def test_nobody_else_manages_keys(client, reporter, undp, nrc, admin_of_undp):
    other_key, _ = keys.issue(nrc, "NRC data hub")
    client.force_login(reporter)
    assert client.get(reverse("sharing:keys")).status_code == 403
    assert (
        client.post(reverse("sharing:key_create", args=[undp.pk]), {"name": "x"}).status_code == 404
    )
    client.force_login(admin_of_undp)
    # An admin of UNDP cannot make NRC's keys, nor revoke them.
    assert (
        client.post(reverse("sharing:key_create", args=[nrc.pk]), {"name": "x"}).status_code == 404
    )
    assert client.post(reverse("sharing:key_revoke", args=[other_key.prefix])).status_code == 404
    other_key.refresh_from_db()
    assert other_key.revoked_at is None
