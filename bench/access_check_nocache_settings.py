"""Settings for bench/access_check.py's second run: govflow's own, with the access cache
switched off (Django's dummy cache), so every check is answered from PostgreSQL."""

from govflow.settings import *  # noqa: F403

CACHES[GOVFLOW_ACCESS_CACHE_ALIAS] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.dummy.DummyCache",
}
