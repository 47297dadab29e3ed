from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "govflow.console"
    label = "console"
    verbose_name = "Oversight console"
