from django.apps import AppConfig


class CobotSevdeskConfig(AppConfig):
    """The package itself, installed as an app for its command line: one Django
    management command per file in ``management/commands/`` (see ``cli.py``)."""

    name = "cobot_sevdesk"
    verbose_name = "cobot-sevdesk commands"
