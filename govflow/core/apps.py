from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "govflow.core"
    label = "core"
    verbose_name = "govflow core"

    def ready(self) -> None:
        from govflow.core import checks  # noqa: F401  (registers system checks)
