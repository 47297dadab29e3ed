from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "govflow.keys"
    label = "keys"
    verbose_name = "Signing keys"
