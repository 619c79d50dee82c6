from django.urls import reverse

from salama.conftest import make_organisation, make_user


def test_an_admin_manages_organisations_users_and_memberships(admin_client, db):
    org = make_organisation("WFP")
    user = make_user("wanda", org)
    for url in (
        reverse("admin:organisations_organisation_changelist"),
        reverse("admin:organisations_organisation_change", args=[org.pk]),
        reverse("admin:organisations_membership_changelist"),
        reverse("admin:auth_user_change", args=[user.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_an_admin_adds_an_organisation(admin_client, db):
    from salama.organisations.models import Organisation

    response = admin_client.post(
        reverse("admin:organisations_organisation_add"),
        {
            "name": "World Food Programme",
            "acronym": "WFP",
            "type": "un_afp",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Organisation.objects.get(acronym="WFP").get_type_display() == (
        "UN agency, fund or programme"
    )
