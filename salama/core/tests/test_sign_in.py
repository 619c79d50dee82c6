import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from salama.conftest import PASSWORD


def test_passwords_are_hashed_with_argon2(reporter):
    assert identify_hasher(reporter.password).algorithm == "argon2"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("incidents:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_user_signs_in_and_out(client, reporter):
    response = client.post(reverse("login"), {"username": "rita", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("incidents:list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("incidents:list")).status_code == 302


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, reporter, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "rita", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "rita", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content


@pytest.mark.parametrize("path", ["/accounts/login/"])
def test_pages_carry_strict_security_headers(client, path):
    response = client.get(path)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
