"""``salama demo``: idempotent, its logins work with the printed password, never in production."""

import io
import re

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from salama import demo
from salama.core.models import AuditEntry
from salama.incidents.models import Incident

OLD_LAYOUT = demo.AWSD_DIR / "awsd_1997-2016_old-layout_latin1.csv"


@pytest.fixture(autouse=True)
def development(settings):
    # The demo runs only where DEBUG is on; pytest-django turns it off.
    settings.DEBUG = True
    # Argon2 is slow on purpose; the logins are what is tested here, not the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo(*args) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_a_second_run_changes_nothing(db):
    run_demo("--without-awsd")
    before = row_counts()
    latest = AuditEntry.objects.order_by("-seq").first().seq
    output = run_demo("--without-awsd")
    assert row_counts() == before
    assert AuditEntry.objects.order_by("-seq").first().seq == latest
    assert "nothing new to create" in output


def test_every_printed_login_signs_in_with_the_printed_password(db):
    output = run_demo("--without-awsd")
    password = re.search(r"Password for every demo login: (\S+)", output).group(1)
    assert "http://127.0.0.1:8000" in output
    logins = [login["login"] for login in demo.load(awsd_files=()).logins]
    assert {"admin", "reporter", "endorser", "analyst", "case_officer", "approver"} <= set(logins)
    for login in logins:
        assert re.search(rf"^\s+{login}\s", output, re.MULTILINE), login
        response = Client().post(reverse("login"), {"username": login, "password": password})
        assert response.status_code == 302, login
        assert response.url == reverse("incidents:list")


def test_there_is_one_login_per_role(db):
    from salama.organisations.choices import Role
    from salama.organisations.models import Membership

    run_demo("--without-awsd")
    roles = set(Membership.objects.filter(organisation__acronym="UNDEMO").values_list("role"))
    assert roles == {(role.value,) for role in Role}


def test_demo_incidents_cover_every_status_and_marking_and_have_history(db):
    run_demo("--without-awsd")
    # The hand-made incidents (the synthetic UN personnel data are bulk-made, like imports).
    incidents = Incident.objects.filter(organisation__acronym="UNDEMO", sources__system="demo")
    assert set(incidents.values_list("status", flat=True)) == {
        "draft",
        "submitted",
        "endorsed",
        "closed",
    }
    assert {"GREEN", "AMBER", "RED"} <= set(incidents.values_list("marking", flat=True))
    for incident in incidents:
        actions = set(
            AuditEntry.objects.filter(
                object_type="incidents.incident", object_id=str(incident.pk)
            ).values_list("action", flat=True)
        )
        assert "create" in actions
        if incident.status != "draft":
            assert "status:submitted" in actions


def test_an_analyst_of_another_organisation_sees_only_what_markings_allow(db):
    from django.contrib.auth import get_user_model

    run_demo("--without-awsd")
    outsider = get_user_model().objects.get(username="ngo_analyst")
    seen = set(Incident.objects.visible_to(outsider).values_list("marking", "status"))
    assert seen and all(m in ("GREEN", "CLEAR") and s != "draft" for m, s in seen)


def test_it_refuses_to_run_without_debug_unless_forced(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is false"):
        run_demo("--without-awsd")
    assert not Incident.objects.exists()
    run_demo("--without-awsd", "--force")
    assert Incident.objects.exists()


def test_it_imports_an_awsd_file_once(db):
    from salama.interchange.models import ImportBatch

    first = run_demo("--awsd-file", str(OLD_LAYOUT))
    assert "imported as batch" in first
    awsd = Incident.objects.filter(organisation__acronym="AWSD")
    batch = ImportBatch.objects.get()
    assert awsd.count() == batch.created > 2000
    before = row_counts()
    second = run_demo("--awsd-file", str(OLD_LAYOUT))
    assert "already imported" in second
    assert row_counts() == before


def test_it_says_which_awsd_file_is_missing(db, tmp_path):
    with pytest.raises(CommandError, match="No AWSD file"):
        run_demo("--awsd-file", str(tmp_path / "missing.csv"))
