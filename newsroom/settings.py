"""Settings for newsroom, read from the environment.

``DJANGO_ENV`` picks the profile. ``development`` (the default) works with no set-up:
debug on, SQLite under ``var/``, a secret generated once and kept in ``var/``.
``production`` refuses to start without ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` and
``NEWSROOM_SITE_URL`` so that a forgotten variable never leaves a site running with a
guessable key or writing links to an address its readers do not use.
"""

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from newsroom.private_files import create_private_file, private_directory

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("NEWSROOM_VAR_DIR", BASE_DIR / "var"))

ENVIRONMENT = os.environ.get("DJANGO_ENV", "development").strip().lower()
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be 'development' or 'production', not {ENVIRONMENT!r}."
    )
PRODUCTION = ENVIRONMENT == "production"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def development_secret_key() -> str:
    """Generate the development key once, so sessions survive restarts of ``make run``; only
    its owner may read the file, from the moment it exists."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        create_private_file(path, secrets.token_urlsafe(50))
    return path.read_text().strip()


def site_url(value: str) -> str:
    """The scheme, host and port readers use, without a trailing slash.

    Absolute links the site writes (canonical link, JSON-LD) start with it instead of the
    request's Host header, which the client writes: any port in it would otherwise be copied
    into pages and make each its own cache entry.
    """
    try:
        parts = urlsplit(value.strip())
        valid = (
            parts.scheme in {"http", "https"}
            and bool(parts.hostname)
            and parts.username is None
            and parts.port != 0
            and parts.path in {"", "/"}
            and not (parts.query or parts.fragment)
        )
    except ValueError:  # a port that is not a number up to 65535, or a malformed IPv6 host
        valid = False
    if not valid:
        raise ImproperlyConfigured(
            "NEWSROOM_SITE_URL must be the address readers use, scheme and host (and port if "
            f"not the usual one) only, such as https://news.example.com, not {value!r}."
        )
    return f"{parts.scheme}://{parts.netloc}"


REQUIRED_IN_PRODUCTION = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "NEWSROOM_SITE_URL")
if PRODUCTION:
    missing = [n for n in REQUIRED_IN_PRODUCTION if not os.environ.get(n)]
    if missing:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs these environment variables: "
            + ", ".join(missing)
            + ". See docs/operations.md, 'Production'."
        )
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
    DEBUG = env_bool("DJANGO_DEBUG", False)
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
    SITE_URL = site_url(os.environ["NEWSROOM_SITE_URL"])
else:
    # What development keeps in var/ (database, secret key, admin password, uploads) is for
    # its owner only; a var/ left open by an older checkout is closed.
    private_directory(VAR_DIR, tighten=VAR_DIR == BASE_DIR / "var")
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or development_secret_key()
    DEBUG = env_bool("DJANGO_DEBUG", True)
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]"]
    # `make run PORT=8080` sets NEWSROOM_SITE_URL to match the port it serves on.
    SITE_URL = site_url(os.environ.get("NEWSROOM_SITE_URL") or "http://127.0.0.1:8000")

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin, with its staff login asking for an authenticator code (accounts/admin_site.py).
    "accounts.apps.NewsroomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "crispy_forms",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The project's own template tags (the admin's home page), before the apps it shows.
    "newsroom",
    "accounts",
    "explainers",
    "feedback",
    # axes before audit: its failed-login receiver marks a lockout that the audit log records.
    "axes",
    "audit",
    "cdn",
]

MIDDLEWARE = [
    # First: the load balancer's checks answer before redirects, hosts, sessions or cookies.
    "newsroom.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files carry it too.
    "newsroom.middleware.cross_origin_resource_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "newsroom.middleware.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before anything reads the request: a body or query Django cannot parse gets a 400 here.
    "newsroom.middleware.UnreadableRequestMiddleware",
    # Stored reader pages and votes are answered here, with the headers above, nothing below.
    "explainers.page_cache.ReaderFastPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After authentication (an editor reads the primary): readers' pages read the replica,
    # and a database that cannot be reached is a 503, not a 500.
    "newsroom.db_router.DatabaseRoutingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the page that says so.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Security headers on every page, beside SecurityMiddleware's (nosniff, Referrer-Policy,
# Cross-Origin-Opener-Policy, HSTS in production) and X-Frame-Options. The site's own scripts and
# stylesheets only: no inline script, style or event handler, in the admin too. The JSON-LD
# <script type="application/ld+json"> is data, which a browser never runs, so CSP lets it be.
# No nonces: public pages are the same bytes for every reader and cached as such.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Powerful browser features the site never uses, denied to it and to anything it embeds.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
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

ROOT_URLCONF = "newsroom.urls"

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
                "newsroom.context_processors.site",
            ],
            # base.html's one tag, without {% load %}: Jinja2 knows it too (newsroom/jinja2.py).
            "builtins": ["newsroom.templatetags.fragments"],
        },
    },
    {
        # The explainer page alone (newsroom/jinja2.py says why); base.html from templates/.
        "BACKEND": "newsroom.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2", BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "newsroom.jinja2.environment",
            # As Django's templates do: an include's last line break is kept.
            "keep_trailing_newline": True,
            "context_processors": ["newsroom.context_processors.site"],
        },
    },
]

WSGI_APPLICATION = "newsroom.wsgi.application"

DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"


def database(url: str, *, connect_timeout: int) -> dict:
    """Django's settings for the database at ``url``, with the project's PostgreSQL options."""
    config = dj_database_url.parse(
        url,
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        # Off, as in Django, because a check is a round trip on every request; the vote
        # endpoint, the one hot write, retries once on a dropped connection instead.
        conn_health_checks=env_bool("DJANGO_CONN_HEALTH_CHECKS", False),
    )
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Server-side binding lets psycopg prepare statements a connection repeats, so
        # PostgreSQL plans the pages' and votes' queries once instead of on every request
        # (planning took longer than running them). Switch off behind pgbouncer in
        # transaction pooling mode.
        server_side = env_bool("DJANGO_DB_SERVER_SIDE_BINDING", True)
        config.setdefault("OPTIONS", {})["server_side_binding"] = server_side
        # Django turns psycopg's statement preparation off unless asked: a statement run
        # twice on a connection is prepared from its second run on (None: never).
        config["OPTIONS"]["prepare_threshold"] = 1 if server_side else None
        # An unreachable database fails a request in seconds instead of holding a worker for
        # the operating system's TCP timeout (about two minutes).
        config["OPTIONS"].setdefault("connect_timeout", connect_timeout)
    return config


DATABASES = {
    "default": database(
        os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        connect_timeout=env_int("DJANGO_DB_CONNECT_TIMEOUT", 5),
    )
}
# A streaming replica readers' pages read from (newsroom/db_router.py); everything else, and
# readers too while it is down or behind, uses the primary. Its connect timeout is short: a
# reader waits that long once, after which the replica is left alone for a while.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = database(
        os.environ["DATABASE_REPLICA_URL"],
        connect_timeout=env_int("NEWSROOM_REPLICA_CONNECT_TIMEOUT", 2),
    )
    # Tests create no database of their own for it: it reads the test database.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["newsroom.db_router.ReplicaRouter"]
# Readers are served from the primary while the replica is further behind than this.
REPLICA_MAX_LAG_SECONDS = env_int("NEWSROOM_REPLICA_MAX_LAG_SECONDS", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    db_name = DATABASES["default"]["NAME"]
    if db_name and db_name != ":memory:":
        Path(db_name).parent.mkdir(parents=True, exist_ok=True)
        if not PRODUCTION and not Path(db_name).exists():
            # SQLite would create it readable by everyone; an empty file is an empty database,
            # and SQLite gives its journal files the database file's mode.
            create_private_file(Path(db_name))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
# The site and its admin are in English only: without translation catalogues, each date,
# number and {% trans %} in a template skips the active-language lookups (a tenth of a card).
USE_I18N = False
USE_TZ = True
# One date format across the admin (newsroom/formats/en/formats.py says why it is a module).
FORMAT_MODULE_PATH = ["newsroom.formats"]
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files need collectstatic, which production runs at deploy time.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production whitenoise serves straight from the source folders, no collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG and not PRODUCTION
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Lead images larger than this are refused before anything reads them as an image.
MAX_IMAGE_UPLOAD_BYTES = env_int("NEWSROOM_MAX_IMAGE_BYTES", 5 * 1024 * 1024)
# And those with more pixels than this, from their header, before decoding: a few KiB of
# PNG can unpack to gigabytes (a "decompression bomb"). Also Pillow's own limit, set at start.
MAX_IMAGE_PIXELS = env_int("NEWSROOM_MAX_IMAGE_PIXELS", 40_000_000)

# Rate limits must be shared by every worker process in production: point this at Redis.
# Vote counters get their own alias ("ratelimit") that only the vote endpoint writes, so no
# number of page requests can evict a counter and so reset a client's allowance.
CACHE_URL = os.environ.get("NEWSROOM_CACHE_URL", "locmem://")
if CACHE_URL.startswith(("redis://", "rediss://")):
    # A Redis that is down is an empty cache that keeps nothing, never an error (newsroom/cache.py).
    # Redis answers in well under a millisecond: a second without an answer is an outage.
    redis_cache = {
        "BACKEND": "newsroom.cache.ResilientRedisCache",
        "LOCATION": CACHE_URL,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }
    CACHES = {
        "default": redis_cache,
        "ratelimit": {**redis_cache, "KEY_PREFIX": "ratelimit"},
    }
elif CACHE_URL == "locmem://":
    locmem_backend = "newsroom.cache.LocalCache"
    CACHES = {
        "default": {"BACKEND": locmem_backend, "LOCATION": "pages"},
        # One entry per client and window, written only by votes: room for 100,000 clients a
        # window (a few tens of MB) before the oldest counters make way.
        "ratelimit": {
            "BACKEND": locmem_backend,
            "LOCATION": "ratelimit",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
    }
else:
    raise ImproperlyConfigured(
        f"NEWSROOM_CACHE_URL must be locmem:// or redis://host:port/db, not {CACHE_URL!r}."
    )

# Workflow emails (explainers/notifications.py). Development prints them on the console.
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "newsroom@localhost")
if os.environ.get("DJANGO_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["DJANGO_EMAIL_HOST"]
    EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
    # A slow mail server delays the editor's step by at most this, and never fails it.
    EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10)
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    # Production without a mail server: nothing is sent, and nothing pretends to be.
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

# Forms shown to readers render through the site's own pack (templates/govuk/): the site's
# markup and classes, with the GOV.UK Design System's accessible error summary and messages.
CRISPY_ALLOWED_TEMPLATE_PACKS = ("govuk",)
CRISPY_TEMPLATE_PACK = "govuk"

# How long shared caches (a CDN) may keep a public explainer page or the home page.
PUBLIC_CACHE_SECONDS = env_int("NEWSROOM_PUBLIC_CACHE_SECONDS", 60)
# How long a CDN may keep them (Surrogate-Control, CDN-Cache-Control): longer once it is purged
# on change (NEWSROOM_PURGE_BACKEND). Neither lifetime runs past a scheduled publication/expiry.
CDN_CACHE_SECONDS = env_int("NEWSROOM_CDN_CACHE_SECONDS", PUBLIC_CACHE_SECONDS)

# Which CDN `manage.py run_purger` purges of the pages a change affects (cdn/backends.py);
# empty (the default) queues nothing, so `make run` needs no CDN and no worker.
PURGE_BACKEND = os.environ.get("NEWSROOM_PURGE_BACKEND", "")
PURGE_SETTINGS = {
    "": (),
    "varnish": ("NEWSROOM_VARNISH_URLS",),
    "fastly": ("NEWSROOM_FASTLY_SERVICE_ID", "NEWSROOM_FASTLY_API_TOKEN"),
    "cloudflare": ("NEWSROOM_CLOUDFLARE_ZONE_ID", "NEWSROOM_CLOUDFLARE_API_TOKEN"),
}
if PURGE_BACKEND not in PURGE_SETTINGS:
    raise ImproperlyConfigured(
        "NEWSROOM_PURGE_BACKEND must be empty, varnish, fastly or cloudflare, "
        f"not {PURGE_BACKEND!r}."
    )
missing_purge_settings = [
    name for name in PURGE_SETTINGS[PURGE_BACKEND] if not os.environ.get(name)
]
if missing_purge_settings:
    raise ImproperlyConfigured(
        f"NEWSROOM_PURGE_BACKEND={PURGE_BACKEND} needs {', '.join(missing_purge_settings)}."
    )
VARNISH_URLS = env_list("NEWSROOM_VARNISH_URLS")
FASTLY_API_URL = os.environ.get("NEWSROOM_FASTLY_API_URL", "https://api.fastly.com")
FASTLY_SERVICE_ID = os.environ.get("NEWSROOM_FASTLY_SERVICE_ID", "")
FASTLY_API_TOKEN = os.environ.get("NEWSROOM_FASTLY_API_TOKEN", "")
CLOUDFLARE_API_URL = os.environ.get("NEWSROOM_CLOUDFLARE_API_URL", "https://api.cloudflare.com")
CLOUDFLARE_ZONE_ID = os.environ.get("NEWSROOM_CLOUDFLARE_ZONE_ID", "")
CLOUDFLARE_API_TOKEN = os.environ.get("NEWSROOM_CLOUDFLARE_API_TOKEN", "")
EXPLAINERS_PER_PAGE = 20

# The publication as search engines, news apps and feed readers name it (feeds, the Google
# News sitemap, Open Graph, the web app manifest, JSON-LD's publisher), and its language.
SITE_NAME = os.environ.get("NEWSROOM_SITE_NAME", "").strip() or "Newsroom"
SITE_LANGUAGE = os.environ.get("NEWSROOM_LANGUAGE", "").strip() or "en"
if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", SITE_LANGUAGE):
    raise ImproperlyConfigured(
        f"NEWSROOM_LANGUAGE must be a language code such as en or pt-BR, not {SITE_LANGUAGE!r}."
    )
# JSON-LD's publisher: its address (the site's by default) and logo (the site's own icon
# by default; Google asks for a raster image at least 112 px wide).
PUBLISHER_URL = os.environ.get("NEWSROOM_PUBLISHER_URL", "").strip()
PUBLISHER_URL = site_url(PUBLISHER_URL) if PUBLISHER_URL else ""  # empty: NEWSROOM_SITE_URL
PUBLISHER_LOGO_URL = os.environ.get("NEWSROOM_PUBLISHER_LOGO_URL", "").strip()

# Full-text search on PostgreSQL: the text search configuration the stored vectors and the
# queries use (\dF in psql lists them). Changing it needs `manage.py reindex_search`.
SEARCH_CONFIG = os.environ.get("NEWSROOM_SEARCH_CONFIG", "").strip() or "english"
if not re.fullmatch(r"[a-z_][a-z0-9_]*", SEARCH_CONFIG):
    raise ImproperlyConfigured(
        f"NEWSROOM_SEARCH_CONFIG must name a text search configuration, not {SEARCH_CONFIG!r}."
    )
# Search pages are kept in this many cache slots at most, whatever queries arrive.
SEARCH_CACHE_SLOTS = env_int("NEWSROOM_SEARCH_CACHE_SLOTS", 1000)

# Reader feedback. The rate limit is "N/s", "N/m" or "N/h" per client (a keyed hash of the
# address, never the address itself); FEEDBACK_MIN_VOTES is how many votes a share needs
# before the admin shows it as a percentage.
FEEDBACK_RATE_LIMIT = os.environ.get("FEEDBACK_RATE_LIMIT", "30/m").strip()
if not re.fullmatch(r"[1-9][0-9]*/[smh]", FEEDBACK_RATE_LIMIT):
    raise ImproperlyConfigured(
        f"FEEDBACK_RATE_LIMIT must look like 30/m (N per s, m or h), not {FEEDBACK_RATE_LIMIT!r}."
    )
FEEDBACK_MIN_VOTES = env_int("FEEDBACK_MIN_VOTES", 10)
# While the rate-limit counters (Redis) cannot be reached, votes are let through uncounted;
# true refuses them (503, Retry-After) until the counters are back.
RATELIMIT_FAIL_CLOSED = env_bool("NEWSROOM_RATELIMIT_FAIL_CLOSED", False)
# Behind proxies, the header they append the client's address to (e.g. X-Forwarded-For), and
# how many of them append to it: the address that many entries from the right is the client
# (entries further left were written by the client itself). Only a keyed hash is kept.
FEEDBACK_CLIENT_IP_HEADER = os.environ.get("FEEDBACK_CLIENT_IP_HEADER", "").strip()
FEEDBACK_PROXY_COUNT = env_int("FEEDBACK_PROXY_COUNT", 1)
if FEEDBACK_PROXY_COUNT < 1:
    raise ImproperlyConfigured(
        f"FEEDBACK_PROXY_COUNT must be 1 or more, not {FEEDBACK_PROXY_COUNT}."
    )
if os.environ.get("FEEDBACK_PROXY_COUNT", "").strip() and not FEEDBACK_CLIENT_IP_HEADER:
    raise ImproperlyConfigured(
        "FEEDBACK_PROXY_COUNT needs FEEDBACK_CLIENT_IP_HEADER, the header the proxies append to."
    )
if FEEDBACK_CLIENT_IP_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", FEEDBACK_CLIENT_IP_HEADER):
    raise ImproperlyConfigured(
        "FEEDBACK_CLIENT_IP_HEADER must be a header name such as X-Forwarded-For, "
        f"not {FEEDBACK_CLIENT_IP_HEADER!r}."
    )
FEEDBACK_COOKIE_NAME = "newsroom_reader"
FEEDBACK_COOKIE_MAX_AGE = 365 * 24 * 3600

# Staff accounts. Failed logins are counted per username *and* client address: a lockout
# stops whoever is guessing one account's password from one place, while the editor it
# belongs to can still log in from anywhere else. Counting by username alone would let
# anyone lock every editor out with a few wrong passwords each; by address alone, one
# office (or one proxy) would lock out all its staff. IPv6 clients count per /64.
LOGIN_FAILURE_LIMIT = env_int("NEWSROOM_LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_MINUTES = env_int("NEWSROOM_LOGIN_COOLOFF_MINUTES", 15)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_COOLOFF_MINUTES < 0:
    raise ImproperlyConfigured(
        "NEWSROOM_LOGIN_FAILURE_LIMIT must be at least 1 and NEWSROOM_LOGIN_COOLOFF_MINUTES "
        "at least 0 (0: locked until an administrator unlocks)."
    )
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES) if LOGIN_COOLOFF_MINUTES else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "newsroom.client_ip.lockout_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Tries during a lockout do not push its end further away, so the time the page gives is true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Logins are in the audit log; axes keeps only its failure counters.
AXES_DISABLE_ACCESS_LOG = True
# No start-up banner on every command (a cron export would print it each run).
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]

# Two-factor authentication (TOTP, with recovery codes). Required, when on, for superusers
# and whoever may publish or sign off AI text (Editors); anyone on the staff may set it up.
REQUIRE_TWO_FACTOR = env_bool("NEWSROOM_REQUIRE_2FA", PRODUCTION)
OTP_TOTP_ISSUER = os.environ.get("NEWSROOM_TOTP_ISSUER", "Newsroom")
RECOVERY_CODE_COUNT = 10

if PRODUCTION:
    # Behind a TLS-terminating proxy, set DJANGO_SECURE_PROXY_SSL_HEADER=true so that Django
    # trusts its X-Forwarded-Proto; DJANGO_SECURE_SSL_REDIRECT=false leaves redirects to it.
    if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SILENCED_SYSTEM_CHECKS = env_list("DJANGO_SILENCED_SYSTEM_CHECKS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # django-axes logs every login attempt at INFO; its warnings (failures, lockouts) suffice.
    "loggers": {"axes": {"level": "WARNING"}},
}
