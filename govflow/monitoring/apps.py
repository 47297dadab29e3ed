from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "govflow.monitoring"
    label = "monitoring"
    verbose_name = "Deployment monitoring and incidents"

    def ready(self) -> None:
        # Registers the area's signed acts with the kernel (govflow.keys.acts.ACTS).
        # Services here queue Celery tasks from web processes too; importing the app
        # configures Celery from Django's settings (the broker) before anything is sent.
        import govflow.celery  # noqa: F401
        import govflow.monitoring.acts  # noqa: F401
