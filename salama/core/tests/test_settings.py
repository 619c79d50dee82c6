import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from salama import settings as s


def _settings_in_subprocess(**environ):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALAMA_")}
    env.pop("DATABASE_URL", None)
    env.update(environ)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import salama.settings as s; print(s.DATABASES['default']['NAME'])",
        ],
        env=env,
        capture_output=True,
        text=True,
    )


def test_envbool_rejects_anything_but_true_or_false(monkeypatch):
    monkeypatch.setenv("SALAMA_X", "yes")
    with pytest.raises(ImproperlyConfigured, match="'true' or 'false'"):
        s.envbool("SALAMA_X", "false")
    monkeypatch.setenv("SALAMA_X", "TRUE")
    assert s.envbool("SALAMA_X", "false") is True


def test_envsecret_reads_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret-from-file\n")
    monkeypatch.setenv("SALAMA_K_FILE", str(secret))
    assert s.envsecret("SALAMA_K") == "s3cret-from-file"


def test_a_missing_secret_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SALAMA_K_FILE", str(tmp_path / "nope"))
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        s.envsecret("SALAMA_K")


def test_it_parses_postgres_urls():
    db = s.parse_database_url("postgres://u:p%40ss@db.example:5433/salama?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u",
        "p@ss",
        "db.example",
        "5433",
        "salama",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_it_parses_sqlite_urls_and_turns_on_wal():
    assert s.parse_database_url("sqlite:////var/lib/salama/db.sqlite3")["NAME"] == (
        "/var/lib/salama/db.sqlite3"
    )
    assert s.parse_database_url("sqlite:///relative.sqlite3")["NAME"] == "relative.sqlite3"
    assert "journal_mode=WAL" in s.parse_database_url("sqlite:///x")["OPTIONS"]["init_command"]


def test_the_site_url_for_e_mail_links_is_checked():
    assert s.parse_site_url("https://salama.example.org/") == "https://salama.example.org"
    assert s.parse_site_url("http://10.0.0.5:8000/salama") == "http://10.0.0.5:8000/salama"
    assert s.parse_site_url("") == ""
    for wrong in ("salama.example.org", "ftp://x.org", "https://", "https://x.org/?a=1"):
        with pytest.raises(ImproperlyConfigured, match="SALAMA_SITE_URL"):
            s.parse_site_url(wrong)


def test_it_rejects_an_unknown_database():
    with pytest.raises(ImproperlyConfigured, match="not supported"):
        s.parse_database_url("mysql://x/y")


def test_production_mode_refuses_to_start_without_a_real_secret_key():
    result = _settings_in_subprocess(SALAMA_DEBUG="false", SALAMA_ALLOWED_HOSTS="salama.org")
    assert result.returncode != 0
    assert "Refusing to start in production mode" in result.stderr
    assert "SALAMA_SECRET_KEY" in result.stderr
    assert "SALAMA_ENCRYPTION_KEY" in result.stderr


def test_production_mode_refuses_a_wildcard_host():
    result = _settings_in_subprocess(
        SALAMA_DEBUG="false", SALAMA_SECRET_KEY="k" * 50, SALAMA_ALLOWED_HOSTS="*"
    )
    assert result.returncode != 0 and "SALAMA_ALLOWED_HOSTS" in result.stderr


def test_production_mode_starts_with_sound_settings(tmp_path):
    result = _settings_in_subprocess(
        SALAMA_DEBUG="false",
        SALAMA_SECRET_KEY="k" * 50,
        SALAMA_ENCRYPTION_KEY="MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
        SALAMA_ALLOWED_HOSTS="salama.org",
        SALAMA_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "salama.sqlite3")
