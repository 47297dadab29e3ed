from django.apps import AppConfig


class AuditingConfig(AppConfig):
    name = "govflow.auditing"
    label = "auditing"
    verbose_name = "Third-party auditing"
