"""WSGI entry point (gunicorn: ``cobot_sevdesk.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobot_sevdesk.settings")
application = get_wsgi_application()
