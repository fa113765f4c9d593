"""Django settings of the reference implementation `spid-cie-oidc`, as a trust anchor
(REFIMPL_ROLE=ta) or as an OpenID provider (REFIMPL_ROLE=op), for Sportello's end-to-end login
test (tests/spid-cie-oidc/run). Written for this test from the package's documentation: only
what the two roles need, on loopback, sqlite in the run's temporary directory.

Environment: REFIMPL_ROLE, REFIMPL_DB (sqlite path), REFIMPL_TA (the trust anchor's entity id),
REFIMPL_PROFILE (a provider's profile: spid, the default, or cie).
"""

import os

import aiohttp

ROLE = os.environ["REFIMPL_ROLE"]
BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "sportello-test-only-" + ROLE
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
APPEND_SLASH = False
USE_TZ = True
TIME_ZONE = "Europe/Rome"
LANGUAGE_CODE = "en"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "spid_cie_oidc_accounts.User"
STATIC_URL = "static/"

# The federation has one trust anchor, the one this run starts.
OIDCFED_DEFAULT_TRUST_ANCHOR = os.environ["REFIMPL_TA"]
OIDCFED_TRUST_ANCHORS = [OIDCFED_DEFAULT_TRUST_ANCHOR]
OIDCFED_REQUIRED_TRUST_MARKS = []
# A provider runs the SPID profile, or the CIE one with REFIMPL_PROFILE=cie.
OIDCFED_PROVIDER_PROFILE = os.environ.get("REFIMPL_PROFILE", "spid")
OIDCFED_PROVIDER_SALT = "sportello-test"
# Plain HTTP on loopback: the trust anchor, the provider and Sportello fetch each other's
# statements without TLS.
HTTPC_PARAMS = {
    "connection": {"ssl": False},
    "session": {"timeout": aiohttp.ClientTimeout(total=8)},
}

INSTALLED_APPS = [
    "spid_cie_oidc.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "spid_cie_oidc.entity",
]
INSTALLED_APPS.append("spid_cie_oidc.authority" if ROLE == "ta" else "spid_cie_oidc.provider")

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "refimpl.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # A minimal `bootstrap-italia-base.html`, so the provider's login and consent pages
        # render without the theme package.
        "DIRS": [os.path.join(BASE_DIR, "templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["REFIMPL_DB"]},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "spid_cie_oidc": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
