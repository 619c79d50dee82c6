"""Loading an organisation's own matrix in the admin: validated monotone, audited."""

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.urls import reverse

from salama.core.models import AuditEntry
from salama.risk import rules
from salama.risk.models import RiskMatrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, undp):
    admin = get_user_model().objects.create_superuser("root", "root@example.invalid", "x")
    client.force_login(admin)
    return client


def test_the_admin_loads_a_valid_matrix_for_an_organisation(admin_client, undp):
    data = rules.default_matrix().to_data() | {"version": "undp-admin-1"}
    response = admin_client.post(
        reverse("admin:risk_riskmatrix_add"),
        {"organisation": undp.pk, "source": yaml.safe_dump(data)},
    )
    assert response.status_code == 302, response.content[:2000]
    row = RiskMatrix.objects.get(organisation=undp)
    assert row.version == "undp-admin-1" and row.matrix.cells == rules.default_matrix().cells
    assert AuditEntry.objects.filter(action="risk.matrix.load").count() == 1


def test_the_admin_refuses_a_matrix_that_is_not_monotone_and_names_the_cells(admin_client, undp):
    data = rules.default_matrix().to_data() | {"version": "undp-admin-2"}
    data["cells"]["very_likely"] = ["low", "low", "low", "low", "low"]
    response = admin_client.post(
        reverse("admin:risk_riskmatrix_add"),
        {"organisation": undp.pk, "source": yaml.safe_dump(data)},
    )
    assert response.status_code == 200
    assert "Very likely × Minor is Low, lower than Likely × Minor (Medium)" in response.text
    assert not RiskMatrix.objects.filter(organisation=undp).exists()
