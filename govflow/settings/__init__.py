"""Django settings for govflow (DJANGO_SETTINGS_MODULE=govflow.settings), configured only from
the environment, in four parts: `core` (Django, the database, the API, caches), `security`
(sign-in lockout, hardening, CSP), `governance` (govflow's own rules, the log's key and
witnesses) and `tasks` (Celery, eval runs, beat).

Defaults are for the local demo (`make run`): embedded SQLite, DEBUG on, a filesystem
Celery transport. Production sets ``GOVFLOW_ENV=production`` and the variables listed
in deploy/README.md; `govflow.core.checks` refuses to start with demo defaults there.
"""

from govflow.settings.core import *  # noqa: F403
from govflow.settings.governance import *  # noqa: F403
from govflow.settings.security import *  # noqa: F403
from govflow.settings.tasks import *  # noqa: F403
