from django.apps import AppConfig


class SignoffsConfig(AppConfig):
    name = "govflow.signoffs"
    label = "signoffs"
    verbose_name = "Sign-offs"
