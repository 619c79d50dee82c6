import pytest
from django.urls import reverse

from salama.analytics.models import Headcount
from salama.conftest import make_user
from salama.organisations.choices import Role

pytestmark = pytest.mark.django_db


def test_an_organisation_admin_enters_and_corrects_a_headcount(client, undp, reporter):
    admin = make_user("ada", undp, roles=(Role.ORG_ADMIN,))
    client.force_login(admin)
    url = reverse("analytics:headcounts")
    form = {
        "organisation": undp.pk,
        "country": "ss",
        "year": 2023,
        "staff": 120,
        "national_staff": 100,
        "international_staff": 20,
    }
    assert client.post(url, form).status_code == 302
    assert client.post(url, {**form, "staff": 130, "national_staff": 110}).status_code == 302
    saved = Headcount.objects.get()
    assert (saved.country, saved.staff, saved.national_staff) == ("SS", 130, 110)
    page = client.post(url, {**form, "staff": 10})
    assert "must add up to the total" in page.content.decode()
    assert Headcount.objects.get().staff == 130


def test_others_cannot_enter_headcounts(client, undp, reporter, outsider):
    client.force_login(reporter)
    assert client.get(reverse("analytics:headcounts")).status_code == 403
    admin = make_user("ada", undp, roles=(Role.ORG_ADMIN,))
    client.force_login(admin)
    # An admin of UNDP cannot enter NRC's numbers: NRC is not offered.
    response = client.post(
        reverse("analytics:headcounts"),
        {
            "organisation": outsider.memberships.get().organisation_id,
            "country": "SS",
            "year": 2023,
            "staff": 5,
        },
    )
    assert response.status_code == 200 and not Headcount.objects.exists()
