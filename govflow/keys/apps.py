from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "govflow.keys"
    label = "keys"
    verbose_name = "Signing keys"

    def ready(self) -> None:
        # Registers the key-certificate acts with the kernel (govflow.keys.acts.ACTS).
        import govflow.keys.certificates  # noqa: F401
