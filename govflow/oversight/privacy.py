"""Keeping the whistleblower channel out of every log.

A report is only as safe as the request that carried it. The channel's views read
nothing about the sender (no address, user agent, cookie or account), and this filter
drops every log record about a request to the channel's paths — the development
server's request lines, Django's 4xx/5xx warnings and gunicorn's access log, whose
default format records the client address and user agent.
"""

from __future__ import annotations

import logging

PUBLIC_PREFIX = "/whistleblow"


def _mentions_channel(record: logging.LogRecord) -> bool:
    request = getattr(record, "request", None)
    path = getattr(request, "path", None)
    if isinstance(path, str) and path.startswith(PUBLIC_PREFIX):
        return True
    args = record.args
    if isinstance(args, dict):  # gunicorn.access passes its atoms as a mapping
        for key in ("U", "r"):
            value = args.get(key)
            if isinstance(value, str) and PUBLIC_PREFIX in value:
                return True
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    return PUBLIC_PREFIX in message


class WhistleblowerLogFilter(logging.Filter):
    # Filters on a logger see only records logged there, not its children's: name each.
    LOGGERS = ("django.server", "django.request", "django.security.csrf",
               "django.security.DisallowedHost", "django.security.SuspiciousOperation",
               "gunicorn.access", "gunicorn.error")

    def filter(self, record: logging.LogRecord) -> bool:
        return not _mentions_channel(record)
