from django.apps import AppConfig


class SystemsConfig(AppConfig):
    name = "govflow.systems"
    label = "systems"
    verbose_name = "AI systems"
