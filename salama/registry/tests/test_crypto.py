import base64
import os
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from salama.registry import crypto
from salama.registry.conftest import IDENTITY, KEY_A, KEY_B
from salama.registry.models import Identity


def test_key_formats_and_ids():
    raw = base64.urlsafe_b64encode(b"C" * 32).decode()
    keys = crypto.parse_keys(f"{KEY_B}, {raw}")
    assert [k.id for k in keys][0] == "keyb"
    import hashlib

    assert keys[1].id == hashlib.sha256(b"C" * 32).hexdigest()[:8]
    assert "C" not in repr(keys[1])  # key material never printed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no key"),
        ("c2hvcnQ", "5 bytes"),
        ("bad id!:" + base64.urlsafe_b64encode(b"A" * 32).decode(), "invalid id"),
        (f"{KEY_A},{KEY_A}", "appears twice"),
        ("k:" + base64.urlsafe_b64encode(b"A" * 16).decode(), "16 bytes"),
        ("k:%%%%", "base64"),
    ],
)
def test_malformed_keys_are_refused_with_a_clear_message(text, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.parse_keys(text)


def test_round_trip_and_binding_to_the_record():
    key_id, blob = crypto.encrypt(b"secret", purpose="identity", record_id=7)
    assert key_id == "keya"
    assert crypto.decrypt(key_id, blob, purpose="identity", record_id=7) == b"secret"
    with pytest.raises(crypto.CryptoError, match="another record"):
        crypto.decrypt(key_id, blob, purpose="identity", record_id=8)
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(key_id, bytes(tampered), purpose="identity", record_id=7)


def test_unknown_key_is_a_clear_error(settings):
    key_id, blob = crypto.encrypt(b"x", purpose="identity", record_id=1)
    settings.ENCRYPTION_KEYS = KEY_B
    with pytest.raises(crypto.CryptoError, match="no longer lists"):
        crypto.decrypt(key_id, blob, purpose="identity", record_id=1)


def test_ciphertext_moved_to_another_case_does_not_open(case, officer, undp):
    from salama.registry.conftest import make_case

    other = make_case(officer, undp, identity={"name": "Someone Else"})
    stolen = Identity.objects.get(case=case)
    Identity.objects.filter(case=other).update(ciphertext=stolen.ciphertext, key_id=stolen.key_id)
    with pytest.raises(crypto.CryptoError):
        Identity.objects.get(case=other).open()
    assert Identity.objects.get(case=case).open()["name"] == IDENTITY["name"]


def test_development_key_is_kept_in_the_data_dir_with_mode_0600(settings, tmp_path):
    settings.ENCRYPTION_KEYS = ""
    settings.DEBUG = True
    first = crypto.current_key()
    path = tmp_path / crypto.DEV_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert crypto.current_key() == first  # created once, then reused


def test_production_without_a_key_refuses(settings, monkeypatch):
    settings.ENCRYPTION_KEYS = ""
    settings.DEBUG = False
    monkeypatch.setenv("SALAMA_DEBUG", "false")
    with pytest.raises(ImproperlyConfigured):
        crypto.current_key()


@hsettings(max_examples=50, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=10**12))
def test_any_plaintext_round_trips(plaintext, record_id):
    from django.conf import settings

    settings.ENCRYPTION_KEYS = KEY_A
    key_id, blob = crypto.encrypt(plaintext, purpose="identity", record_id=record_id)
    assert plaintext not in blob[crypto.NONCE_BYTES :] or len(plaintext) < 4
    assert crypto.decrypt(key_id, blob, purpose="identity", record_id=record_id) == plaintext
