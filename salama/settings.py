"""Every setting Salama reads from the environment, parsed strictly, in one place.

Defaults are what works on a laptop: SQLite in ./var, DEBUG on. Production mode
(``SALAMA_DEBUG=false``) refuses to start with an insecure setting.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: str) -> bool:
    """Only "true" and "false" are accepted; "yes" or "1" are rejected, not guessed at."""
    value = env(name, default).strip().lower()
    if value not in ("true", "false"):
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {value!r}")
    return value == "true"


def envint(name: str, default: int) -> int:
    raw = env(name, str(default)).strip()
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (for Docker/systemd secrets)."""
    if path := env(f"{name}_FILE"):
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from None
    return env(name, default)


def parse_database_url(url: str) -> dict:
    """Turn ``sqlite:///path`` or ``postgres://user:pass@host:port/name`` into Django settings."""
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "sqlite":
        path = unquote(parsed.path)
        # sqlite:////absolute/path.db keeps its leading slash; sqlite:///relative.db is relative.
        if path.startswith("/"):
            path = path[1:]
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or ":memory:",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    if scheme in ("postgres", "postgresql", "pgsql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {scheme!r} is not supported; use sqlite:/// or postgres://"
    )


DEBUG = envbool("SALAMA_DEBUG", "true")
DATA_DIR = Path(env("SALAMA_DATA_DIR", str(PROJECT_DIR / "var"))).resolve()

_INSECURE_DEV_KEY = "dev-only-insecure-key-never-use-in-production-salama"
SECRET_KEY = envsecret("SALAMA_SECRET_KEY") or (_INSECURE_DEV_KEY if DEBUG else "")

# Victims' identities (registry) are encrypted with keys held outside the database.
# SALAMA_ENCRYPTION_KEY (or SALAMA_ENCRYPTION_KEY_FILE) holds one or more keys, newest first,
# comma-separated; salama.registry.crypto parses and validates them. With DEBUG and no key,
# a development key is kept in DATA_DIR (outside the database).
ENCRYPTION_KEYS = envsecret("SALAMA_ENCRYPTION_KEY")

ALLOWED_HOSTS = [h.strip() for h in env("SALAMA_ALLOWED_HOSTS", "").split(",") if h.strip()]
if DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env("SALAMA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'salama.sqlite3'}"
DATABASES = {"default": parse_database_url(DATABASE_URL)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and DATABASES["default"]["NAME"] != (
    ":memory:"
):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if not DEBUG:
    problems = []
    if not SECRET_KEY or SECRET_KEY == _INSECURE_DEV_KEY or len(SECRET_KEY) < 40:
        problems.append("SALAMA_SECRET_KEY (or SALAMA_SECRET_KEY_FILE) must be 40+ characters")
    if not ENCRYPTION_KEYS:
        problems.append("SALAMA_ENCRYPTION_KEY (or SALAMA_ENCRYPTION_KEY_FILE) must be set")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("SALAMA_ALLOWED_HOSTS must list the host names, without '*'")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production mode: " + "; ".join(problems))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "salama.core",
    "salama.organisations",
    "salama.accounts",
    "salama.incidents",
    "salama.interchange",
    "salama.linkage",
    "salama.analytics",
    "salama.registry",
    "salama.risk",
    "salama.sharing",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "salama.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "salama.accounts.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salama.urls"
WSGI_APPLICATION = "salama.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "salama.sharing.context_processors.shared_with_us",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Two-step sign-in (TOTP): required of everyone in production unless turned off explicitly.
REQUIRE_TWO_FACTOR = envbool("SALAMA_REQUIRE_TWO_FACTOR", "false" if DEBUG else "true")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:list"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failed sign-ins (django-axes): per user name and address.
AXES_FAILURE_LIMIT = envint("SALAMA_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("SALAMA_LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("ru", "Русский"),
    ("zh-hans", "中文"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = envbool("SALAMA_SECURE_COOKIES", "true")
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = envbool("SALAMA_SSL_REDIRECT", "true")
    SECURE_HSTS_SECONDS = envint("SALAMA_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is hard to undo and is the domain owner's decision, hence opt-in.
    SECURE_HSTS_PRELOAD = envbool("SALAMA_HSTS_PRELOAD", "false")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("SALAMA_LOG_LEVEL", "WARNING")},
}

# Background tasks (analytics refresh, reminders) queue in the database: no extra server.
# Run the worker with `salama db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Registry: a case with no Government response or justice milestone for this long is overdue;
# documents attached to cases are refused above this size.
REGISTRY_OVERDUE_DAYS = envint("SALAMA_REGISTRY_OVERDUE_DAYS", 90)
REGISTRY_MAX_DOCUMENT_BYTES = envint("SALAMA_REGISTRY_MAX_DOCUMENT_MB", 20) * 1024 * 1024

# E-mail (case reminders): printed to the console unless an SMTP host is configured.
EMAIL_HOST = env("SALAMA_EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("SALAMA_EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("SALAMA_EMAIL_USER")
    EMAIL_HOST_PASSWORD = envsecret("SALAMA_EMAIL_PASSWORD")
    EMAIL_USE_TLS = envbool("SALAMA_EMAIL_TLS", "true")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("SALAMA_EMAIL_FROM", "salama@localhost")


def parse_site_url(value: str) -> str:
    """The address people open Salama at, for links in e-mails: http(s)://host[:port][/path]."""
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query:
        raise ImproperlyConfigured(
            f"SALAMA_SITE_URL must look like https://salama.example.org, not {value!r}"
        )
    return value.rstrip("/")


# Links in e-mails (reminders, emergency-access reports) start with this; without it they
# carry the path only. The demo serves on 127.0.0.1:8000.
SITE_URL = parse_site_url(env("SALAMA_SITE_URL", "http://127.0.0.1:8000" if DEBUG else ""))

# How far (km) outside a country's polygon a coordinate may lie before it is flagged.
COORDINATE_BORDER_TOLERANCE_KM = envint("SALAMA_COORDINATE_BORDER_TOLERANCE_KM", 25)
INCIDENTS_PER_PAGE = envint("SALAMA_INCIDENTS_PER_PAGE", 50)
# REST API requests allowed per key and minute (counted per server process).
API_REQUESTS_PER_MINUTE = envint("SALAMA_API_REQUESTS_PER_MINUTE", 120)
if API_REQUESTS_PER_MINUTE < 1:
    raise ImproperlyConfigured("SALAMA_API_REQUESTS_PER_MINUTE must be at least 1")
# Shared figures (sharing agreements): a count from 1 to this minus one is shown as "fewer
# than N", so that no partner can single out a person from a small cell.
SHARING_MIN_CELL = envint("SALAMA_SHARING_MIN_CELL", 5)
if SHARING_MIN_CELL < 2:
    raise ImproperlyConfigured("SALAMA_SHARING_MIN_CELL must be at least 2")
# ``salama agreement remind`` tells both sides this many days before an agreement ends.
SHARING_EXPIRY_NOTICE_DAYS = envint("SALAMA_SHARING_EXPIRY_NOTICE_DAYS", 30)
