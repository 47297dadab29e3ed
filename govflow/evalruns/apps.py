from django.apps import AppConfig


class EvalRunsConfig(AppConfig):
    name = "govflow.evalruns"
    label = "evalruns"
    verbose_name = "Eval runs"

    def ready(self) -> None:
        # Services here queue Celery tasks from web processes too; importing the app
        # configures Celery from Django's settings (the broker) before anything is sent.
        import govflow.celery  # noqa: F401
