from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "govflow.audit"
    label = "audit"
    verbose_name = "Audit log"
