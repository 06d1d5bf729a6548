from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "cobot_sevdesk.ledger"
    label = "sync"
    verbose_name = "Cobot → sevDesk sync"
