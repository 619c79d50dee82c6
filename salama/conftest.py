"""Personas and small builders shared by every app's tests.

Personas (healthchecks' alice / bob / charlie, for Salama):
- ``reporter``: a focal point of the owning organisation (UNDP), reporter role;
- ``endorser``: a second person of the owning organisation, endorser role;
- ``outsider``: an analyst of another organisation (NRC);
- anonymous visitors are ``AnonymousUser()``.
"""

import datetime
import shutil
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from salama.incidents import choices as c
from salama.incidents.services import create_incident
from salama.organisations.choices import OrganisationType, Role
from salama.organisations.models import Membership, Organisation

PASSWORD = "correct horse battery staple 7"


def pytest_configure(config):
    """The test session's files go to a folder of its own, not to the developer's
    ``SALAMA_DATA_DIR``: creating the test database runs ``migrate``, whose hooks read the
    data folder (analytics queues a refresh for a snapshot of an older layout found there)."""
    from django.conf import settings

    settings.DATA_DIR = config._salama_data_dir = Path(tempfile.mkdtemp(prefix="salama-tests-"))


def pytest_unconfigure(config):
    folder = getattr(config, "_salama_data_dir", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language. A request in another language leaves it
    active for the thread (LocaleMiddleware activates, nothing deactivates), and figures or
    labels built outside a request in a later test would come out in French."""
    translation.deactivate()
    yield
    translation.deactivate()


def make_organisation(acronym="UNDP", type=OrganisationType.UN_AFP, name=None):
    org, _ = Organisation.objects.get_or_create(
        acronym=acronym, defaults={"name": name or f"{acronym} (test)", "type": type}
    )
    return org


def make_user(username, organisation=None, roles=(Role.REPORTER,), password=PASSWORD):
    user = get_user_model().objects.create_user(username=username, password=password)
    for role in roles:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def incident_fields(**overrides):
    fields = {
        "date": datetime.date(2024, 3, 14),
        "date_precision": c.DatePrecision.DAY,
        "country": "SS",
        "admin1": "Central Equatoria",
        "place": "Juba",
        "latitude": 4.85,
        "longitude": 31.6,
        "coordinate_precision": c.CoordinatePrecision.PLACE,
        "location_type": c.LocationType.ROAD,
        "category": c.Category.VIOLENCE,
        "subcategory": c.SubCategory.CRIME,
        "means_of_attack": c.MeansOfAttack.SHOOTING,
        "narrative": "Armed men stopped a clearly marked vehicle and shot at it.",
        "marking": "GREEN",
    }
    fields.update(overrides)
    return fields


def make_incident(user, organisation, persons=None, **overrides):
    if persons is None:
        persons = [
            {
                "impact": c.Impact.INJURED,
                "cause": c.Cause.VIOLENCE,
                "recruitment": c.Recruitment.NATIONAL,
                "gender": c.Gender.MALE,
            }
        ]
    return create_incident(
        user=user,
        organisation=organisation,
        fields=incident_fields(**overrides),
        persons=persons,
        check_permission=False,
    )


@pytest.fixture
def undp(db):
    return make_organisation(
        "UNDP", OrganisationType.UN_AFP, "United Nations Development Programme"
    )


@pytest.fixture
def nrc(db):
    return make_organisation("NRC", OrganisationType.INGO, "Norwegian Refugee Council")


@pytest.fixture
def reporter(undp):
    return make_user("rita", undp, roles=(Role.REPORTER,))


@pytest.fixture
def endorser(undp):
    return make_user("emma", undp, roles=(Role.ENDORSER, Role.REPORTER))


@pytest.fixture
def outsider(nrc):
    return make_user("omar", nrc, roles=(Role.ANALYST,))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Drop the audit table's append-only triggers in the test database.

    Transactional tests (live server, browser) empty every table between tests, which the
    triggers forbid. The trigger test installs them again inside its own transaction.
    """
    from importlib import import_module

    from django.db import connection

    triggers = import_module("salama.core.migrations.0002_audit_append_only_triggers")
    with django_db_blocker.unblock():
        triggers.remove(connection)
