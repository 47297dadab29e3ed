from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "govflow.policy"
    label = "policy"
    verbose_name = "Release policies"
