"""One small error hierarchy for the evals library.

The Celery caller owns retry policy, so endpoint failures are typed: a caller can tell "try again
later" (RetryableEndpointError, with the server's Retry-After) from "this will never work"
(EndpointError) without parsing messages.
"""

from __future__ import annotations


class EvalsError(Exception):
    """Base class for every error the evals library raises on purpose."""


class ScenarioError(EvalsError):
    """A scenario file is missing, malformed, or a factor/level does not exist."""


class EndpointError(EvalsError):
    """The model endpoint answered in a way that retrying will not fix (4xx, redirect...)."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RetryableEndpointError(EndpointError):
    """429, 5xx, timeout or connection failure: the same request may succeed later.

    ``retry_after`` is the server's Retry-After in seconds when it sent one. ``records`` holds the
    sample records that completed before the failure so a caller may keep them.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after
        self.records: list[dict[str, object]] = []


class RedirectRefusedError(EndpointError):
    """The endpoint answered with a redirect; we never follow one (it could leak the API key)."""


class ResponseTooLargeError(EndpointError):
    """The response body exceeded ``max_response_bytes``; it was not read further."""


class MalformedResponseError(EndpointError):
    """Status 200, but the body is not a chat completion: an HTML page, text that is not JSON, a
    truncated body, an ``{"error": ...}`` object, no choices. Retried like a 5xx; when retries
    run out, the sample is recorded as an error with this message (never graded as a reply)."""


class TruncatedReplyError(MalformedResponseError):
    """The server cut the reply off at its token limit (``finish_reason: length``)."""

    def __init__(self, message: str, *, reply: object | None = None) -> None:
        super().__init__(message)
        self.reply = reply
