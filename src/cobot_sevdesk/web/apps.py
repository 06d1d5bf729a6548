from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cobot_sevdesk.web"
    label = "web"
    verbose_name = "Web add-on"
