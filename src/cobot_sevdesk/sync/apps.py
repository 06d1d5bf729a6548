from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "cobot_sevdesk.sync"
    label = "sync"
    verbose_name = "Cobot → sevDesk sync"
