from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "govflow.demo"
    label = "demo"
    verbose_name = "Demo data"
