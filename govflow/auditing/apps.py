from django.apps import AppConfig


class AuditingConfig(AppConfig):
    name = "govflow.auditing"
    label = "auditing"
    verbose_name = "Third-party auditing"

    def ready(self) -> None:
        # Registers the area's signed acts with the kernel (govflow.keys.acts.ACTS).
        import govflow.auditing.acts  # noqa: F401
