from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "govflow.accounts"
    label = "accounts"
    verbose_name = "Organizations and people"

    def ready(self) -> None:
        # Connects the receiver that logs sign-in lockouts (axes's user_locked_out).
        from govflow.accounts import signin  # noqa: F401
