from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "govflow.releases"
    label = "releases"
    verbose_name = "Releases"
