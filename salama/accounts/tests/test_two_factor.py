"""Two-step sign-in: enrolment, the code step, replay, recovery codes, lockout, enforcement."""

import datetime

import pyotp
import pytest
import time_machine
from django.urls import reverse

from salama.accounts import factors
from salama.accounts.models import RecoveryCode, SecondFactor
from salama.conftest import PASSWORD
from salama.core.models import AuditEntry

# In the past: the tests that use the real clock must come after the enrolment step.
NOW = datetime.datetime(2026, 1, 15, 9, 0, 0, tzinfo=datetime.UTC)


def code_at(secret, moment):
    return pyotp.TOTP(secret).at(moment)


@pytest.fixture
def enrolled(reporter):
    factor = factors.start_enrolment(reporter)
    with time_machine.travel(NOW - datetime.timedelta(minutes=10), tick=False):
        assert factors.confirm(
            reporter, code_at(factor.secret, NOW - datetime.timedelta(minutes=10))
        )
    factor.refresh_from_db()
    return factor


def sign_in(client, password=PASSWORD):
    return client.post(reverse("login"), {"username": "rita", "password": password})


def test_without_a_second_factor_the_password_signs_in(client, reporter):
    response = sign_in(client)
    assert response.status_code == 302 and "verify" not in response["Location"]
    assert client.get(reverse("incidents:list")).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_with_a_second_factor_the_password_alone_does_not_sign_in(client, enrolled):
    response = sign_in(client)
    assert response["Location"] == reverse("accounts:verify")
    assert client.get(reverse("incidents:list")).status_code == 302  # not signed in yet
    response = client.post(reverse("accounts:verify"), {"code": code_at(enrolled.secret, NOW)})
    assert response.status_code == 302
    assert client.get(reverse("incidents:list")).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_a_wrong_code_is_refused_with_a_message(client, enrolled):
    sign_in(client)
    response = client.post(reverse("accounts:verify"), {"code": "000000"})
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert client.get(reverse("incidents:list")).status_code == 302


def test_a_code_is_accepted_once_only(reporter, enrolled):
    with time_machine.travel(NOW, tick=False):
        code = code_at(enrolled.secret, NOW)
        assert factors.verify_code(reporter, code)
        assert not factors.verify_code(reporter, code)  # replayed within its 30 s


def test_one_step_of_clock_drift_is_tolerated_but_not_two(reporter, enrolled):
    with time_machine.travel(NOW, tick=False):
        assert factors.verify_code(
            reporter, code_at(enrolled.secret, NOW + datetime.timedelta(seconds=30))
        )
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        later = NOW + datetime.timedelta(minutes=5)
        assert not factors.verify_code(
            reporter, code_at(enrolled.secret, later + datetime.timedelta(seconds=90))
        )


@time_machine.travel(NOW, tick=False)
def test_the_code_step_expires(client, enrolled):
    sign_in(client)
    with time_machine.travel(NOW + datetime.timedelta(minutes=6), tick=False):
        later = NOW + datetime.timedelta(minutes=6)
        response = client.post(
            reverse("accounts:verify"), {"code": code_at(enrolled.secret, later)}
        )
    assert response.status_code == 302 and response["Location"] == reverse("login")


@time_machine.travel(NOW, tick=False)
def test_wrong_codes_lock_the_account_like_wrong_passwords(client, enrolled, settings):
    sign_in(client)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("accounts:verify"), {"code": "123456"})
    assert response.status_code == 429
    # The password alone now is refused too, even the right one.
    assert sign_in(client).status_code == 429


@time_machine.travel(NOW, tick=False)
def test_recovery_codes_sign_in_once_each(client, reporter, enrolled):
    codes = factors.new_recovery_codes(reporter)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert not RecoveryCode.objects.filter(digest__in=codes).exists()  # stored hashed only
    sign_in(client)
    response = client.post(reverse("accounts:verify"), {"code": codes[0]}, follow=True)
    assert b"recovery code" in response.content
    assert client.get(reverse("incidents:list")).status_code == 200
    client.post(reverse("logout"))
    sign_in(client)
    assert client.post(reverse("accounts:verify"), {"code": codes[0]}).status_code == 400


def test_enrolment_shows_a_qr_code_and_confirms_with_a_first_code(client, reporter):
    client.force_login(reporter)
    page = client.get(reverse("accounts:two_factor"))
    assert page.status_code == 200 and b"<svg" in page.content
    factor = SecondFactor.objects.get(user=reporter)
    assert factor.confirmed_at is None
    assert client.post(reverse("accounts:two_factor"), {"code": "000000"}).status_code == 400
    done = client.post(reverse("accounts:two_factor"), {"code": pyotp.TOTP(factor.secret).now()})
    assert done.status_code == 200 and done.content.count(b"<li><code>") == 10
    assert factors.has_confirmed_factor(reporter)
    assert AuditEntry.objects.filter(action="second_factor.on", object_id=str(reporter.pk)).exists()


def test_turning_it_off_needs_a_current_code(client, reporter, enrolled):
    client.force_login(reporter)
    client.post(reverse("accounts:turn_off"), {"code": "000000", "action": "off"})
    assert factors.has_confirmed_factor(reporter)
    client.post(
        reverse("accounts:turn_off"), {"code": pyotp.TOTP(enrolled.secret).now(), "action": "off"}
    )
    assert not factors.has_confirmed_factor(reporter)
    assert AuditEntry.objects.filter(action="second_factor.off").exists()


def test_when_required_a_person_without_a_factor_can_only_set_one_up(client, reporter, settings):
    settings.REQUIRE_TWO_FACTOR = True
    client.force_login(reporter)
    response = client.get(reverse("incidents:list"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:two_factor")
    assert client.get(reverse("accounts:two_factor")).status_code == 200


def test_when_required_a_person_with_a_factor_goes_on(client, reporter, enrolled, settings):
    settings.REQUIRE_TWO_FACTOR = True
    client.force_login(reporter)
    assert client.get(reverse("incidents:list")).status_code == 200


def test_the_next_address_is_kept_but_only_on_this_site(client, enrolled):
    with time_machine.travel(NOW, tick=False):
        client.post(
            reverse("login"),
            {"username": "rita", "password": PASSWORD, "next": "https://evil.example/"},
        )
        response = client.post(reverse("accounts:verify"), {"code": code_at(enrolled.secret, NOW)})
    assert response["Location"] == reverse("incidents:list")
