"""The product's settings plus a no-op view, to measure the framework's ceiling with
the same server and middleware."""

from cobot_sevdesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
