"""Settings for 和美社区, read from the environment (see `.env.example`).

With nothing set the portal runs on one machine: SQLite under ``var/`` and kombu's
``filesystem://`` broker under ``var/broker``. Production sets ``DATABASE_URL``
(PostgreSQL), ``REDIS_URL``/``CELERY_BROKER_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and
``DEBUG=false``; with ``DEBUG`` off the development secret is refused, and HTTPS redirect and
HSTS are on unless turned off (a TLS-terminating proxy that does both). The production profile
in ``.env.example`` passes ``manage.py check --deploy`` without a warning (tests/test_deploy_check.py).
"""

import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
import whitenoise.compress
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    """Strict boolean parsing: only the listed words are accepted."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105
DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY: the development secret is refused with DEBUG off.")

# Personal numbers at rest (baohe/crypto.py): AES-GCM key ring "id:base64-key,…" (newest first
# encrypts, all decrypt) and the HMAC key of the blind index. With DEBUG on and nothing set both
# are derived from SECRET_KEY (development only); with DEBUG off they must be set.
PERSONAL_DATA_KEYS = env("PERSONAL_DATA_KEYS")
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY")
PERSONAL_DATA_KEYS_DERIVED = not (PERSONAL_DATA_KEYS and BLIND_INDEX_KEY)
if PERSONAL_DATA_KEYS_DERIVED:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set PERSONAL_DATA_KEYS and BLIND_INDEX_KEY: keys derived from SECRET_KEY are refused with DEBUG off."
        )
    import base64
    import hashlib

    def _derived_key(purpose):
        return base64.urlsafe_b64encode(hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()).decode()

    PERSONAL_DATA_KEYS = PERSONAL_DATA_KEYS or f"dev:{_derived_key('personal-data')}"
    BLIND_INDEX_KEY = BLIND_INDEX_KEY or _derived_key("blind-index")

ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "baohe",
    "accounts",
    "communities",
    "partybuilding",
    "notifications",
    "reach",
    "notices",
    "ratings",
    "service_requests",
    "visits",
    "volunteers",
    "meetings",
    "funds",
    "dashboard",
    # The admin site requires a verified second factor (accounts.admin_site.VerifiedAdminSite).
    "accounts.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
]

MIDDLEWARE = [
    # Outermost: the request id (X-Request-ID, in every log line and the tasks enqueued), then
    # the request's latency and status class for /metrics (baohe/log_context.py, baohe/metrics.py).
    "baohe.log_context.RequestIdMiddleware",
    "baohe.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Headers (see "Security headers" below): after whitenoise, so static files skip them.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Reads request.user on the way out, so it stays outside ApiErrorMiddleware's replacements.
    "baohe.headers.PrivateNoStoreMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "baohe.errors.ApiErrorMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The client address of audit lines written by services that are not handed the request.
    "baohe.middleware.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Second factor and session limits (accounts/middleware.py): after authentication (and
    # messages, which the idle sign-out uses); django-otp's OTPMiddleware first.
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "baohe.urls"
WSGI_APPLICATION = "baohe.wsgi.application"
ASGI_APPLICATION = "baohe.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "baohe.context_processors.portal",
                "notifications.context_processors.inbox",
                "accounts.elder.context",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# PostgreSQL when DATABASE_URL is set; otherwise SQLite under var/ in WAL mode with
# IMMEDIATE transactions and a busy timeout, so the web server and the worker can both write.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60))}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "baohe.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrMobileBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# One-time codes for registration: lifetime and how often one number may ask.
PHONE_CODE_TTL_SECONDS = env_int("PHONE_CODE_TTL_SECONDS", 600)
PHONE_CODE_RESEND_SECONDS = env_int("PHONE_CODE_RESEND_SECONDS", 60)
PHONE_CODE_MAX_ATTEMPTS = env_int("PHONE_CODE_MAX_ATTEMPTS", 5)
# Caps on codes sent (issue 11): per mobile number in any 24 hours, per client IP in any hour.
# A registered number counts like any other (it gets a notice instead of a code).
PHONE_CODE_PER_NUMBER_DAILY = env_int("PHONE_CODE_PER_NUMBER_DAILY", 10)
PHONE_CODE_PER_IP_HOURLY = env_int("PHONE_CODE_PER_IP_HOURLY", 20)
# Cross-community lookups of an ID number (issue 12: a duplicate found outside one's scope, a
# 迁入 request) one user may make in any 24 hours; each is an audit line. Over it: 429.
TRANSFER_LOOKUPS_PER_DAY = env_int("TRANSFER_LOOKUPS_PER_DAY", 10)

# --- Second factor, API tokens and sessions (accounts/two_factor.py, tokens.py, sessions.py) --
# Every non-resident account signs in with password + TOTP (or a one-time backup code).
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "和美社区")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret
# API tokens (django-rest-knox, hashed, per device): lifetime by role.
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 - a model name, not a secret
# knox's own migrations would create its default token table even though the model is swapped
# (and that table's foreign key to the users would then block TRUNCATE in flush): not run.
MIGRATION_MODULES = {"knox": None}
API_TOKEN_STAFF_SECONDS = env_int("API_TOKEN_STAFF_SECONDS", 8 * 3600)
API_TOKEN_RESIDENT_SECONDS = env_int("API_TOKEN_RESIDENT_SECONDS", 30 * 86400)
REST_KNOX = {"AUTH_HEADER_PREFIX": "Token", "AUTO_REFRESH": False}
# Sessions: staff (anyone with a second factor) at most STAFF_SESSION_MAX_SECONDS after signing
# in and STAFF_SESSION_IDLE_SECONDS after their last request; residents RESIDENT_SESSION_SECONDS.
# Pages warn SESSION_IDLE_WARNING_SECONDS before the idle sign-out (static/js/session.js).
STAFF_SESSION_MAX_SECONDS = env_int("STAFF_SESSION_MAX_SECONDS", 8 * 3600)
STAFF_SESSION_IDLE_SECONDS = env_int("STAFF_SESSION_IDLE_SECONDS", 30 * 60)
RESIDENT_SESSION_SECONDS = env_int("RESIDENT_SESSION_SECONDS", 14 * 86400)
SESSION_IDLE_WARNING_SECONDS = env_int("SESSION_IDLE_WARNING_SECONDS", 3 * 60)
SESSION_COOKIE_AGE = RESIDENT_SESSION_SECONDS

# --- SMS, shaped like Django's email backends -----------------------------------------------
# The log backend (development) writes codes to SMS_OUTBOX_FILE: it is refused with DEBUG off,
# where the default is the HTTP gateway (which needs SMS_GATEWAY_URL).
SMS_BACKEND = env("SMS_BACKEND", "baohe.sms.LogBackend" if DEBUG else "baohe.sms.HttpGatewayBackend")
if not DEBUG and SMS_BACKEND == "baohe.sms.LogBackend":
    raise ImproperlyConfigured(
        "SMS_BACKEND=baohe.sms.LogBackend is for development only (it keeps codes in a file): "
        "set SMS_BACKEND=baohe.sms.HttpGatewayBackend and SMS_GATEWAY_URL with DEBUG off."
    )
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL")
SMS_GATEWAY_KEY = env("SMS_GATEWAY_KEY")
# Where the log backend keeps the messages it "sends" (masked number + text); empty = nowhere.
SMS_OUTBOX_FILE = env("SMS_OUTBOX_FILE", str(VAR_DIR / "sms-outbox.txt"))

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL=smtp://user:pass@host:port (smtp+tls:// for STARTTLS); unset prints mail to the console.
EMAIL_URL = env("EMAIL_URL")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "和美社区 <noreply@baohe.example>")
if EMAIL_URL:
    _email = urlparse(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "127.0.0.1"
    EMAIL_PORT = _email.port or 25
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_TLS = _email.scheme == "smtp+tls"
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_TIMEOUT = int(parse_qs(_email.query).get("timeout", ["10"])[0])
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Internationalisation: Chinese first, English complete ----------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(env("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# collectstatic writes a gzip and a Brotli copy of every static file except these: whitenoise's
# list (images, fonts, archives) plus source maps, which only a developer's tools fetch and which
# are half the bytes (8 of 16 MB: Brotli at its best quality spent half of collectstatic on them).
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*whitenoise.compress.Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
# Monthly report jobs and their files (MEDIA_ROOT/reports/) are removed after this many days
# (dashboard.reports.reports_clean, daily at 03:45).
REPORT_KEEP_DAYS = env_int("REPORT_KEEP_DAYS", 90)
# Backups (baohe/backup.py, deploy/BACKUPS.md): ``manage.py backup`` writes to BACKUP_DIR/<date-time>
# unless given --to. pg_dump/pg_restore come from PG_BIN_DIR, by default the server's major
# version under /usr/lib/postgresql/<major>/bin (Debian), else from PATH.
BACKUP_DIR = Path(env("BACKUP_DIR", VAR_DIR / "backups"))
PG_BIN_DIR = env("PG_BIN_DIR")

# Audit lines are kept this many days, then purged nightly (baohe.tasks.purge_audit_trail). At
# least 183 (six months, the Cybersecurity Law's minimum): a system check refuses less, and on
# PostgreSQL a trigger refuses to delete younger lines whatever this says.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)

# A resident who moved away or died is anonymised this many months after that date
# (communities.services.residents_anonymise_due, nightly at 02:30): name, numbers, free text and
# login account go; the row and every count it is in stay (PIPL Art. 47).
RESIDENT_RETENTION_MONTHS = env_int("RESIDENT_RETENTION_MONTHS", 24)
RESIDENT_ANONYMISE_BATCH = env_int("RESIDENT_ANONYMISE_BATCH", 200)

# Registry import from spreadsheets (baohe/imports.py, communities/services/imports.py): an
# upload larger than IMPORT_MAX_BYTES or with more than IMPORT_MAX_ROWS data rows is refused;
# an .xlsx whose parts would unpack to more than IMPORT_MAX_UNPACKED_BYTES, or any part of which
# is compressed more than IMPORT_MAX_ZIP_RATIO times, is refused as a zip bomb before it is
# opened. The worker applies IMPORT_BATCH_ROWS rows per transaction.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 60_000)
IMPORT_MAX_UNPACKED_BYTES = env_int("IMPORT_MAX_UNPACKED_BYTES", 300 * 1024 * 1024)
IMPORT_MAX_ZIP_RATIO = env_int("IMPORT_MAX_ZIP_RATIO", 200)
IMPORT_BATCH_ROWS = env_int("IMPORT_BATCH_ROWS", 1000)
# An import job keeps the uploaded sheet (full ID and mobile numbers) for the report, the marked
# sheet and a resumed apply; it is deleted this many days after it was last touched
# (communities.tasks.purge_import_jobs, nightly at 02:45). The audit lines stay.
IMPORT_KEEP_DAYS = env_int("IMPORT_KEEP_DAYS", 30)
# Photos held for a form that came back with an error (baohe.staging, MEDIA_ROOT/staged/): their
# tokens expire and the nightly purge deletes them after this many hours.
STAGED_UPLOAD_HOURS = env_int("STAGED_UPLOAD_HOURS", 24)

# --- Redis, Celery --------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
_broker_dir = VAR_DIR / "broker"
if CELERY_BROKER_URL == "filesystem://":
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The beat schedule: a dict reviewed like code. Scans find due work in indexed columns,
# so a missed tick loses nothing; ``expires`` drops a tick the worker did not get to before
# the next one (no pile-up after an outage). Later capabilities add their scans here.
CELERY_BEAT_SCHEDULE = {
    "scan-deadlines": {
        "task": "service_requests.tasks.scan_deadlines",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "scan-due-visits": {
        "task": "visits.tasks.scan_due_visits",
        "schedule": 900.0,
        "options": {"expires": 840},
    },
    "scan-meeting-reminders": {
        "task": "meetings.tasks.scan_meeting_reminders",
        "schedule": 3600.0,
        "options": {"expires": 3300},
    },
    "dispatch-pending": {
        "task": "notifications.tasks.dispatch_pending",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "heartbeat": {"task": "baohe.heartbeat", "schedule": 30.0, "options": {"expires": 25}},
    "daily-digest": {
        "task": "notifications.tasks.send_daily_digest",
        "schedule": crontab(hour=8, minute=0),  # CELERY_TIMEZONE: 08:00 Asia/Shanghai
        "options": {"expires": 3600},
    },
    # Housekeeping (not scans: ``run_scans`` leaves them out). The month summaries recomputed
    # from the requests, a safety net for admin edits and bulk loads that bypass the services.
    "rebuild-summaries": {
        "task": "service_requests.tasks.rebuild_summaries",
        "schedule": crontab(hour=3, minute=30),  # 03:30 Asia/Shanghai
        "options": {"expires": 3600},
    },
    "anonymise-residents": {
        "task": "communities.tasks.anonymise_residents",
        "schedule": crontab(hour=2, minute=30),  # 02:30 Asia/Shanghai; see RESIDENT_RETENTION_MONTHS
        "options": {"expires": 3600},
    },
    "reconcile-visit-plans": {
        "task": "visits.tasks.reconcile_visit_plans",
        "schedule": crontab(hour=2, minute=15),  # 02:15 Asia/Shanghai; the services keep them in step by day
        "options": {"expires": 3600},
    },
    "purge-import-jobs": {
        "task": "communities.tasks.purge_import_jobs",
        "schedule": crontab(hour=2, minute=45),  # 02:45 Asia/Shanghai; keeps IMPORT_KEEP_DAYS days
        "options": {"expires": 3600},
    },
    "clean-reports": {
        "task": "dashboard.tasks.clean_reports",
        "schedule": crontab(hour=3, minute=45),  # 03:45 Asia/Shanghai; keeps REPORT_KEEP_DAYS days
        "options": {"expires": 3600},
    },
    "purge-audit-trail": {
        "task": "baohe.tasks.purge_audit_trail",
        "schedule": crontab(hour=4, minute=15),  # 04:15 Asia/Shanghai; keeps AUDIT_RETENTION_DAYS days
        "options": {"expires": 3600},
    },
    "purge-staged-uploads": {
        "task": "baohe.tasks.purge_staged_uploads",
        "schedule": crontab(hour=4, minute=30),  # 04:30 Asia/Shanghai; keeps STAGED_UPLOAD_HOURS hours
        "options": {"expires": 3600},
    },
}

# BEAT_SCAN_SECONDS (drills and tests only): every interval entry above runs this often instead
# (tests/ops/test_two_beats.py runs two beats at 5 s); crontab entries are left alone. 0 = as above.
BEAT_SCAN_SECONDS = env_int("BEAT_SCAN_SECONDS", 0)
if BEAT_SCAN_SECONDS > 0:
    for _entry in CELERY_BEAT_SCHEDULE.values():
        if isinstance(_entry["schedule"], float):
            _entry["schedule"] = float(BEAT_SCAN_SECONDS)
            _entry["options"] = {**_entry.get("options", {}), "expires": max(1, BEAT_SCAN_SECONDS - 1)}

# --- Notifications and reminders ------------------------------------------------------------
# A delivery is retried after BACKOFF × 2ⁿ seconds and given up after MAX_ATTEMPTS. A worker
# holds a claimed delivery for LEASE seconds (longer than an SMTP or SMS timeout): if it dies
# meanwhile, the delivery is sent again after that.
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 6)
NOTIFICATIONS_BACKOFF_SECONDS = env_int("NOTIFICATIONS_BACKOFF_SECONDS", 60)
NOTIFICATIONS_SEND_LEASE_SECONDS = env_int("NOTIFICATIONS_SEND_LEASE_SECONDS", 120)
NOTIFICATIONS_DISPATCH_BATCH = env_int("NOTIFICATIONS_DISPATCH_BATCH", 200)
NOTIFICATIONS_DISPATCH_SECONDS = env_int("NOTIFICATIONS_DISPATCH_SECONDS", 20)
REMINDER_BATCH_SIZE = env_int("REMINDER_BATCH_SIZE", 5000)
# Connections the deadline scan claims a backlog with at once (PostgreSQL; see reminders.py).
REMINDER_SCAN_WORKERS = env_int("REMINDER_SCAN_WORKERS", 2)

# --- Cache ----------------------------------------------------------------------------------
# "heartbeat" holds the worker's last heartbeat for /readyz (see baohe/celery.py): it must be
# shared by the web and worker processes, so without Redis it is a file cache under VAR_DIR.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
        "heartbeat": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "baohe",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
        # DRF throttle counters (baohe.throttling), shared by every web process.
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "throttle",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "heartbeat": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": VAR_DIR / "cache"},
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"},
    }

# Whole pages served from the cache (baohe/pagecache.py: the dashboard and its chart data), per
# place, period, sort, language and scope. A short expiry rather than a version the summary bumps:
# at district scale requests arrive every second, so a version would empty the cache all the time,
# and the page also shows live counts (overdue, visits) the summary does not track. An official
# therefore sees numbers at most this many seconds old (capped at 60; 0 turns it off).
PAGE_CACHE_SECONDS = max(0, min(60, env_int("PAGE_CACHE_SECONDS", 60)))

# Sessions are read from the cache (Redis in production) and written through to the database,
# so a restart of Redis signs nobody out and a page costs no session query.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its "WWW-Authenticate: Token" makes a missing, revoked or expired token a 401.
    # A session counts only once its second factor is verified (staff).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "accounts.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "baohe.query.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "baohe.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "baohe.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "和美社区 API",
    "DESCRIPTION": "Baohe community governance portal: registry, party organisation and the work on top of them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets whose field names ("kind", "status") other models use too.
    "ENUM_NAME_OVERRIDES": {
        "ImportJobKindEnum": "baohe.models.ImportJob.Kind",
        "ImportJobStatusEnum": "baohe.models.ImportJob.Status",
        # Names the same-named choice sets of several models apart (drf-spectacular W001).
        "RequestChannelEnum": "service_requests.models.ServiceRequest.Channel",
        "RequestStatusEnum": "service_requests.models.ServiceRequest.Status",
        "ProposalFileKindEnum": "funds.models.ProposalFile.Kind",
        "ProposalPurposeEnum": "funds.models.Proposal.Purpose",
        "VisitPurposeEnum": "visits.models.Purpose",
    },
    # The schema and its docs: signed-in staff only, unless API_DOCS_PUBLIC (baohe.permissions).
    "SERVE_PERMISSIONS": ["baohe.permissions.ApiDocsAccess"],
}
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", default=False)
# 小区公示: true = each compound's board of anonymised requests is readable without signing in;
# default: its residents and the staff who serve it only (service_requests/public.py).
PUBLIC_COMPOUND_BOARD = env_bool("PUBLIC_COMPOUND_BOARD", default=False)

# 社区经费 (funds/): the district's yearly base per community, in yuan (服务群众专项经费 at least
# 300,000 and 党组织活动经费 100,000 a year); a proposal above FUNDS_STREET_REVIEW_ABOVE yuan goes to
# the street for review after the community secretary approves it.
FUNDS_DEFAULT_BUDGETS = {
    "service": env_int("FUNDS_SERVICE_BUDGET", 300_000),
    "party": env_int("FUNDS_PARTY_BUDGET", 100_000),
}
FUNDS_STREET_REVIEW_ABOVE = env_int("FUNDS_STREET_REVIEW_ABOVE", 50_000)
# A community whose share paid is this many points behind (or ahead of) the share of the year elapsed
# is flagged on the funds dashboard.
FUNDS_ALERT_POINTS = env_int("FUNDS_ALERT_POINTS", 25)

# --- Security (production) ------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS only, by default whenever DEBUG is off: http:// is redirected and browsers are told (HSTS)
# for a year, subdomains included. Behind a TLS-terminating proxy that does both itself, set
# SECURE_SSL_REDIRECT=false and SECURE_HSTS_SECONDS=0 (and silence security.W004/W008, which
# cannot see the proxy). /healthz and /readyz answer over plain http for load balancers' probes.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# (/metrics too: a Prometheus on the same host may scrape gunicorn's loopback port directly.)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Reverse proxies in front of the portal that append to X-Forwarded-For (nginx: 1). The client
# IP seen by the lockout, the throttles and the audit log is read through baohe.client_ip.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
X_FRAME_OPTIONS = "DENY"

# --- Security headers: CSP, Permissions-Policy, no-store (issue 11) --------------------------
# Content-Security-Policy (django-csp 4): scripts, styles, fonts, images and requests from this
# site only; no 'unsafe-inline', no 'unsafe-eval'. Templates carry no inline <script>, on*=
# handler or style="" (tests/test_headers.py scans them): JS lives in static/js/, CSS in
# static/css/. base.html's <script> tags carry the per-response nonce (request.csp_nonce), which
# is what a script the portal must write into a page would use. data: images are Bootstrap's
# inline SVG icons. CSP_REPORT_URI (optional) receives browsers' violation reports.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
if env("CSP_REPORT_URI"):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [env("CSP_REPORT_URI")]
# Browser features the portal never uses are off for it and anything it might embed. A photo
# is chosen with a plain file input (the phone offers its camera itself), so camera stays off.
# Only features Chromium knows (an unknown one is an error in its console, which the e2e tests fail on).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# Every answer to a signed-in user, and every photo whoever asks, is sent with
# Cache-Control: no-store (baohe.headers): personal data stays out of shared and browser caches.
SILENCED_SYSTEM_CHECKS = [s for s in env("SILENCED_SYSTEM_CHECKS", "").split(",") if s]

# Every handler masks mobile and ID numbers (baohe.log_filters) and then adds the request id
# (baohe.log_context); Django's own loggers, which come with handlers of their own, pass their
# records up to the root's instead. LOG_FORMAT=json writes one JSON object per line (production:
# deploy/); the default "plain" keeps development readable. LOG_REQUESTS adds one line per request
# (method, path, status, milliseconds, view; on by default with json, where it replaces
# gunicorn's access log).
LOG_FORMAT = env("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOG_REQUESTS = env_bool("LOG_REQUESTS", default=LOG_FORMAT == "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_personal_data": {"()": "baohe.log_filters.MaskPersonalData"},
        "request_id": {"()": "baohe.log_context.RequestIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "baohe.log_context.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["mask_personal_data", "request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},  # a line per failure and per lockout, not per check
    },
}


# --- Metrics (baohe/metrics.py) -------------------------------------------------------------
# Addresses (or networks, 10.0.0.0/8) that may read /metrics; anyone else gets 404. The address is
# the client's as baohe.client_ip sees it (behind nginx: the one nginx saw).
def _networks(name, default):
    values = [v.strip() for v in env(name, default).split(",") if v.strip()]
    try:
        for value in values:
            ipaddress.ip_network(value, strict=False)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from error
    return values


METRICS_ALLOWED_IPS = _networks("METRICS_ALLOWED_IPS", "127.0.0.1,::1")

# --- Sign-in protection (issue 11: lockout and throttles) -----------------------------------
# django-axes counts failed sign-ins per username + client IP on every password door (the
# login page, /admin/login/, POST /api/v1/auth/token/); after AXES_FAILURE_LIMIT failures that
# pair is locked for AXES_COOLOFF_MINUTES. Secretaries and administrators lift locks at
# /accounts/lockouts/ (accounts.lockout).
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last: turns a locked sign-in into the lockout answer
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A try while locked neither counts nor restarts the clock, so "N minutes left" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False  # no start-up banner; failures are still logged, username and IP hidden
AXES_CLIENT_IP_CALLABLE = "baohe.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout_views.lockout_response"

# DRF scoped throttles per client IP (baohe.throttling.ScopedThrottle; counters in the "throttle"
# cache): the token endpoint, sending SMS codes, registration and Open311 POST.
_RATE = r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)"


def env_rate(name, default):
    value = env(name, default).strip()
    if not re.fullmatch(_RATE, value):
        raise ImproperlyConfigured(f"{name} must look like 10/min (per s, min, hour or day), not {value!r}")
    return value


REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "auth": env_rate("THROTTLE_RATE_AUTH", "20/min"),
    "sms_send": env_rate("THROTTLE_RATE_SMS", "5/min"),
    "register": env_rate("THROTTLE_RATE_REGISTER", "10/min"),
    "open311": env_rate("THROTTLE_RATE_OPEN311", "30/min"),
    # Reveals of a full mobile / ID number (page and API together), per signed-in user.
    "reveal": env_rate("THROTTLE_RATE_REVEAL", "30/hour"),
}

SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
PORTAL_NAME = _("和美社区")  # shown in the navigation bar and page titles
