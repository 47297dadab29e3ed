from django.apps import AppConfig


class SignoffsConfig(AppConfig):
    name = "govflow.signoffs"
    label = "signoffs"
    verbose_name = "Sign-offs"

    def ready(self) -> None:
        # Registers the area's signed acts with the kernel (govflow.keys.acts.ACTS).
        import govflow.signoffs.acts  # noqa: F401
