"""CVX settings. Every value comes from the environment; see the README's
configuration table. The defaults give the embedded system: SQLite under
CVX_DATA_DIR, django-q2 on the ORM broker, email to the console."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import available_timezones

from cvx_site import local_env, paths
from cvx_site.env import (
    ConfigError,
    database_from_url,
    database_owner_from_url,
    env_audit_key,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_rate,
    env_str,
)

# Where templates/, static/ and locale/ are: the checkout's root, or the
# installed package's share/ directory (cvx_site.paths).
BASE_DIR = paths.SHARE_DIR
DATA_DIR = local_env.data_dir()
# `make run` keeps its settings (DJANGO_DEBUG, this install's random keys) in
# $CVX_DATA_DIR/local.env; read first, for what the environment does not set,
# so commands run by hand match the server. Absent, nothing is read.
LOCAL_ENV_FILE = DATA_DIR / local_env.FILENAME
local_env.load(LOCAL_ENV_FILE)

DEBUG = env_bool("DJANGO_DEBUG", False)

# Never a constant from our source, even for development: survey links are
# signed with it, and a demo may be reachable from a network.
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    raise ConfigError("DJANGO_SECRET_KEY", f"is required (`make run` writes a random one to {LOCAL_ENV_FILE})")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "nested_admin",
    "django_q",
    "axes",
    "cvx_site.apps.SiteConfig",
    "journeys",
    "feedback",
    "cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cvx_site.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # No LocaleMiddleware: the staff pages are in LANGUAGE_CODE, the one
    # language their catalogue is complete in (with the browser's language
    # they would mix English with Django's own translations). The survey
    # pages and emails choose theirs explicitly (feedback.views, README
    # "Languages"): the invitation's, else the browser's Accept-Language.
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cvx_site.urls"
WSGI_APPLICATION = "cvx_site.wsgi.application"

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
                "cases.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        "DATABASE_URL",
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'cvx.sqlite3'}",
        conn_max_age=env_int("DJANGO_DB_CONN_MAX_AGE", 60, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests use a file too, so they run with WAL and IMMEDIATE like the real thing.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL with two roles: DATABASE_URL's role runs the app and cannot alter
# or disable the audit trail's triggers; `migrate` runs as the role of
# DATABASE_OWNER_URL, which owns the tables (cvx_site.db_roles).
CVX_DATABASE_OWNER = database_owner_from_url(
    "DATABASE_OWNER_URL", env_str("DATABASE_OWNER_URL"), app=DATABASES["default"]
)
CVX_DATABASE_APP_ROLE = DATABASES["default"].get("USER", "")

# The audit trail's HMAC key (event hashes, checkpoint signatures): never in
# the database. Unset, a key derived from SECRET_KEY stands in; the system
# check cases.E001 refuses that when DEBUG is off.
CVX_AUDIT_KEY, CVX_AUDIT_KEY_SET = env_audit_key("CVX_AUDIT_KEY", fallback_from=SECRET_KEY)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_choice("DJANGO_TIME_ZONE", "UTC", available_timezones())
USE_I18N = True
# The languages of the survey pages and emails (feedback.choices.SurveyLanguage)
# and of the staff pages. README, "Languages": adding one.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
# Created by `collectstatic`, not here: importing settings creates nothing
# (the SQLite file's directory is made when Django starts: cvx_site.apps).
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Login attempts (django-axes) ----------------------------------------------
# Its backend goes first and refuses a locked-out username from that address
# before any password is checked. Locking the pair (not the address alone)
# keeps one office behind a NAT from locking out all of its staff. Axes takes
# the address from REMOTE_ADDR: behind a proxy that is the proxy's.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("CVX_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind a proxy, the address the proxy saw (as DRF's throttles), not the proxy's.
AXES_CLIENT_IP_CALLABLE = "cvx_site.clientip.client_ip"
# Lockouts are counted without keeping a log of every staff login's address and browser.
AXES_DISABLE_ACCESS_LOG = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:home"
LOGOUT_REDIRECT_URL = "login"

# --- HTTPS and browser security -------------------------------------------
# DJANGO_HTTPS says the site is served over HTTPS (directly or behind a proxy
# that terminates TLS); it turns on redirects, secure cookies and HSTS.
HTTPS = env_bool("DJANGO_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Email --------------------------------------------------------------------
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "cvx_site.mail.ConsoleEmailBackend"  # addresses masked; links only with DEBUG
)
# With DJANGO_DEBUG off, console email is a system-check error (cvx.E001) unless this says it is meant.
CVX_ALLOW_CONSOLE_EMAIL = env_bool("CVX_ALLOW_CONSOLE_EMAIL", False)
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "cvx@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in emails (case pages, survey links) start with this.
CVX_BASE_URL = env_str("CVX_BASE_URL", "http://127.0.0.1:8000")
# Email with the customer from the case (cases.messaging).
CVX_MAIL_SEND_ATTEMPTS = env_int("CVX_MAIL_SEND_ATTEMPTS", 3, minimum=1)
CVX_MAIL_RETRY_SECONDS = env_int("CVX_MAIL_RETRY_SECONDS", 5, minimum=0)
CVX_REPLY_MAILBOX = env_str("CVX_REPLY_MAILBOX")  # replies@example.com -> replies+<token>@example.com
CVX_REPLY_TOKEN_MAX_AGE_DAYS = env_int("CVX_REPLY_TOKEN_MAX_AGE_DAYS", 90, minimum=1)
CVX_REOPEN_ON_REPLY = env_bool("CVX_REOPEN_ON_REPLY", True)
CVX_INBOUND_SECRET = env_str("CVX_INBOUND_SECRET")  # empty: the inbound endpoint refuses everything
CVX_INBOUND_MAX_BYTES = env_int("CVX_INBOUND_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
CVX_IMAP_HOST = env_str("CVX_IMAP_HOST")
CVX_IMAP_PORT = env_int("CVX_IMAP_PORT", 993, minimum=1)
CVX_IMAP_USER = env_str("CVX_IMAP_USER")
CVX_IMAP_PASSWORD = env_str("CVX_IMAP_PASSWORD")
CVX_IMAP_FOLDER = env_str("CVX_IMAP_FOLDER", "INBOX")

# --- django-q2 ----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ConfigError("REDIS_URL", f"expected a redis:// or rediss:// URL, got {REDIS_URL!r}")
Q_TIMEOUT = env_int("CVX_Q_TIMEOUT", 120, minimum=1)
Q_RETRY = env_int("CVX_Q_RETRY", 180, minimum=2)
if Q_RETRY <= Q_TIMEOUT:
    # Otherwise a slow task is handed to a second worker while the first still runs it.
    raise ConfigError("CVX_Q_RETRY", f"must be greater than CVX_Q_TIMEOUT ({Q_TIMEOUT}), got {Q_RETRY}")
Q_CLUSTER = {
    "name": "cvx",
    "workers": env_int("CVX_Q_WORKERS", 2, minimum=1),
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": 5,
    "queue_limit": 100,
    "bulk": 10,
    "catch_up": False,
    "sync": env_bool("CVX_TASKS_SYNC", False),
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
}

# --- Cache (throttle counters; shared across nodes when Redis is there) ------
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# A bulk request of 1,000 items with long comments is several MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("CVX_MAX_REQUEST_BYTES", 12 * 1024 * 1024, minimum=1024)
# Survey invitations: how long a link works, when the one reminder goes, and
# whether a follow-up that shows the customer was not recovered reopens the
# case (escalated to the team lead) instead of closing it.
CVX_SURVEY_VALID_DAYS = env_int("CVX_SURVEY_VALID_DAYS", 7, minimum=1)
CVX_SURVEY_REMINDER_DAYS = env_int("CVX_SURVEY_REMINDER_DAYS", 3, minimum=1)
CVX_REOPEN_NOT_RECOVERED = env_bool("CVX_REOPEN_NOT_RECOVERED", False)
# Scores from fewer responses than this are shown muted as "few responses"
# and draw no trend arrow (feedback.analytics.few_responses).
CVX_MIN_RESPONSES = env_int("CVX_MIN_RESPONSES", 30, minimum=1)
# First-contact resolution: days after a resolution in which the customer's
# negative feedback on the same touchpoint means the issue came back.
CVX_FCR_REPEAT_DAYS = env_int("CVX_FCR_REPEAT_DAYS", 7, minimum=1)
# Webhooks and chat alerts (cases.webhooks): attempts before a delivery is a
# dead letter, the back-off (base doubled per failure, capped), timeouts of
# each POST, and whether plain-http loopback targets are allowed (tests;
# DEBUG allows them too).
CVX_WEBHOOK_MAX_ATTEMPTS = env_int("CVX_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
CVX_WEBHOOK_RETRY_SECONDS = env_int("CVX_WEBHOOK_RETRY_SECONDS", 30, minimum=1)
CVX_WEBHOOK_RETRY_MAX_SECONDS = env_int("CVX_WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600, minimum=1)
CVX_WEBHOOK_CONNECT_TIMEOUT = env_int("CVX_WEBHOOK_CONNECT_TIMEOUT", 5, minimum=1)
CVX_WEBHOOK_READ_TIMEOUT = env_int("CVX_WEBHOOK_READ_TIMEOUT", 10, minimum=1)
CVX_WEBHOOK_ALLOW_LOOPBACK = env_bool("CVX_WEBHOOK_ALLOW_LOOPBACK", False)
# Requests per client address per period to the public survey page (GET and POST).
CVX_RATE_SURVEY = env_rate("CVX_RATE_SURVEY", "30/min")
CVX_IMPORT_MAX_BYTES = env_int("CVX_IMPORT_MAX_BYTES", 2 * 1024**3, minimum=1)
NLTK_DATA_DIR = Path(env_str("CVX_NLTK_DATA_DIR") or DATA_DIR / "nltk_data")

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Every endpoint: JSON nested past Python's decoder is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": [
        "cvx_site.inputs.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "cvx_site.api.ErrorsDocumentedSchema",
    "EXCEPTION_HANDLER": "cvx_site.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("CVX_RATE_ANON", "60/min"),
        "user": env_rate("CVX_RATE_USER", "3000/min"),
        "ingest": env_rate("CVX_RATE_INGEST", "1200/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    # Trust one X-Forwarded-For hop only behind our own proxy, or throttles could be dodged.
    "NUM_PROXIES": 1 if BEHIND_PROXY else 0,
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CVX API",
    "DESCRIPTION": "Customer Value Exchange: feedback in, closed-loop cases and metrics out.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "FeedbackKindEnum": "feedback.choices.FeedbackKind",
        "IdentityKindEnum": "feedback.choices.IdentityKind",
        "PillarEnum": "cases.insights.pillars.PILLAR_KEYS",
    },
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Logging ------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Customer emails and phone numbers never reach the log output.
    "filters": {"mask_personal_data": {"()": "cvx_site.logging.MaskPersonalData"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_personal_data"]}
    },
    # Django's defaults give these loggers handlers of their own (a console
    # when DEBUG, the admins' error mail, runserver's access log) that would
    # write unmasked: they go through the root's console instead.
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
    "root": {
        "handlers": ["console"],
        "level": env_choice("DJANGO_LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}),
    },
}
