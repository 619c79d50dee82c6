"""Registry personas and builders.

- ``officer``: case officer of UNDP (the person's organisation), with an e-mail address;
- ``second_officer``: another UNDP case officer, not named on restricted cases;
- ``foreign_officer``: a case officer of NRC (another organisation);
- ``analyst``: a UNDP analyst; ``endorser`` (salama/conftest.py): a UNDP endorser;
- ``org_admin``: the UNDP organisation admin, who is told of every break-glass access.
"""

import base64
import datetime

import pytest

from salama.conftest import make_user
from salama.incidents import choices as ic
from salama.organisations.choices import Role
from salama.registry import choices as rc
from salama.registry import services

KEY_A = "keya:" + base64.urlsafe_b64encode(b"A" * 32).decode()
KEY_B = "keyb:" + base64.urlsafe_b64encode(b"B" * 32).decode()

IDENTITY = {
    "name": "Zainab Quixotic-Marlowe",
    "staff_number": "UNDP-7730142",
    "nationality": "Atlantis",
    "date_of_birth": "1984-02-29",
    "next_of_kin": "Husband Idris Marlowe, +211 912 345 678",
}


@pytest.fixture(autouse=True)
def registry_settings(settings, tmp_path):
    """A known key and a private data directory, so tests never touch ./var."""
    settings.ENCRYPTION_KEYS = KEY_A
    settings.DATA_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


def make_officer(username, organisation, email=""):
    user = make_user(username, organisation, roles=(Role.CASE_OFFICER,))
    if email:
        user.email = email
        user.save(update_fields=["email"])
    return user


@pytest.fixture
def officer(undp):
    return make_officer("cora", undp, email="cora@example.org")


@pytest.fixture
def second_officer(undp):
    return make_officer("cyril", undp, email="cyril@example.org")


@pytest.fixture
def foreign_officer(nrc):
    return make_officer("nadia", nrc, email="nadia@example.org")


@pytest.fixture
def analyst(undp):
    return make_user("anil", undp, roles=(Role.ANALYST,))


@pytest.fixture
def org_admin(undp):
    user = make_user("ada", undp, roles=(Role.ORG_ADMIN,))
    user.email = "ada@example.org"
    user.save(update_fields=["email"])
    return user


def case_fields(**overrides):
    fields = {
        "offence": rc.Offence.KILLING,
        "country": "SS",
        "date": datetime.date(2024, 3, 14),
        "perpetrator_type": ic.PerpetratorType.CRIMINAL,
        "gender": ic.Gender.MALE,
        "recruitment": ic.Recruitment.NATIONAL,
    }
    fields.update(overrides)
    return fields


def make_case(officer, organisation, identity=None, **overrides):
    return services.create_case(
        user=officer,
        organisation=organisation,
        fields=case_fields(**overrides),
        identity=identity,
    )


@pytest.fixture
def case(officer, undp):
    return make_case(officer, undp, identity=IDENTITY)


@pytest.fixture
def sv_case(officer, undp):
    return make_case(
        officer, undp, identity=IDENTITY, offence=rc.Offence.SEXUAL_ASSAULT, gender="female"
    )
