from django.apps import AppConfig


class RolloutConfig(AppConfig):
    name = "govflow.rollout"
    label = "rollout"
    verbose_name = "Limited rollout: customers, KYC, cohorts, access checks"

    def ready(self) -> None:
        # Registers the area's signed acts with the kernel (govflow.keys.acts.ACTS).
        # Services here queue Celery tasks from web processes too; importing the app
        # configures Celery from Django's settings (the broker) before anything is sent.
        import govflow.celery  # noqa: F401
        import govflow.rollout.acts  # noqa: F401
