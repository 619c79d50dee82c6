"""Key rotation: interrupting it at any batch loses nothing, and a second run finishes it."""

import pytest
from django.core.management import call_command

from salama.registry import crypto, rotation
from salama.registry.conftest import KEY_A, KEY_B, make_case
from salama.registry.models import Identity


class Interrupted(Exception):
    pass


@pytest.fixture
def identities(officer, undp):
    return [
        make_case(officer, undp, identity={"name": f"Person {n}", "staff_number": f"S-{n}"})
        for n in range(23)
    ]


def _all_readable():
    return {row.case_id: row.open()["name"] for row in Identity.objects.order_by("pk").iterator()}


@pytest.mark.parametrize("stop_after", [1, 2, 4])
def test_interrupted_rotation_loses_nothing_and_a_second_run_finishes(
    identities, settings, stop_after
):
    expected = _all_readable()
    assert set(rotation.key_counts()) == {"keya"}
    settings.ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"  # the new key first, the old one kept

    def interrupt(result):
        if result.batches == stop_after:
            raise Interrupted

    with pytest.raises(Interrupted):
        rotation.rotate(batch_size=5, on_batch=interrupt)
    counts = rotation.key_counts()
    assert counts["keyb"] == 5 * stop_after and sum(counts.values()) == 23
    assert _all_readable() == expected

    result = rotation.rotate(batch_size=5)
    assert result.rotated == 23 - 5 * stop_after and result.remaining == 0
    assert rotation.key_counts() == {"keyb": 23}
    settings.ENCRYPTION_KEYS = KEY_B  # the old key can now be dropped
    assert _all_readable() == expected


def test_interrupted_inside_a_batch_rolls_that_batch_back(identities, settings, monkeypatch):
    expected = _all_readable()
    settings.ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    calls = {"n": 0}
    real_seal = Identity.seal

    def failing_seal(self, data, key=None):
        calls["n"] += 1
        if calls["n"] == 8:  # the third record of the second batch
            raise Interrupted
        return real_seal(self, data, key=key)

    monkeypatch.setattr(Identity, "seal", failing_seal)
    with pytest.raises(Interrupted):
        rotation.rotate(batch_size=5)
    assert rotation.key_counts() == {"keyb": 5, "keya": 18}
    monkeypatch.setattr(Identity, "seal", real_seal)
    assert _all_readable() == expected
    rotation.rotate(batch_size=5)
    assert rotation.key_counts() == {"keyb": 23}


def test_rotate_key_command(identities, settings, capsys):
    settings.ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    call_command("registry", "rotate-key", "--batch-size", "10")
    out = capsys.readouterr().out
    assert "23 identities and 0 documents re-encrypted under key keyb" in out
    call_command("registry", "rotate-key")
    assert "0 identities and 0 documents" in capsys.readouterr().out
    call_command("registry", "keys")
    assert "keyb (newest): 23" in capsys.readouterr().out


def test_new_key_command_prints_a_usable_key(capsys):
    call_command("registry", "new-key")
    text = capsys.readouterr().out.strip()
    assert len(crypto.parse_keys(text)[0].secret) == 32


def test_documents_are_rotated_too(case, officer, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from salama.registry import documents

    document = documents.attach(case, officer, SimpleUploadedFile("a.txt", b"Note verbale 12"))
    path = settings.DATA_DIR / "registry" / document.sha256
    assert documents.key_id_of(path.read_bytes()) == "keya"
    settings.ENCRYPTION_KEYS = f"{KEY_B},{KEY_A}"
    result = rotation.rotate()
    assert result.documents == 1 and documents.key_id_of(path.read_bytes()) == "keyb"
    assert rotation.rotate().documents == 0
    settings.ENCRYPTION_KEYS = KEY_B
    assert documents.read_for_download(document, officer) == b"Note verbale 12"
