import logging

from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "govflow.oversight"
    label = "oversight"
    verbose_name = "Regulatory oversight"

    def ready(self) -> None:
        # Registers the area's signed acts with the kernel (govflow.keys.acts.ACTS).
        import govflow.oversight.acts  # noqa: F401

        # Filters on the loggers themselves, not in settings.LOGGING: gunicorn installs its
        # own access-log handlers, and a dictConfig entry for its logger would remove them.
        from govflow.oversight.privacy import WhistleblowerLogFilter

        for name in WhistleblowerLogFilter.LOGGERS:
            logging.getLogger(name).addFilter(WhistleblowerLogFilter())
        # and on the root's handlers, which every other logger's records reach
        for handler in logging.getLogger().handlers:
            handler.addFilter(WhistleblowerLogFilter())
