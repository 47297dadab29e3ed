import logging

from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "govflow.oversight"
    label = "oversight"
    verbose_name = "Regulatory oversight"

    def ready(self) -> None:
        # Filters on the loggers themselves, not in settings.LOGGING: gunicorn installs its
        # own access-log handlers, and a dictConfig entry for its logger would remove them.
        from govflow.oversight.privacy import WhistleblowerLogFilter

        for name in WhistleblowerLogFilter.LOGGERS:
            logging.getLogger(name).addFilter(WhistleblowerLogFilter())
        # and on the root's handlers, which every other logger's records reach
        for handler in logging.getLogger().handlers:
            handler.addFilter(WhistleblowerLogFilter())
