"""Machine tokens are tried in the auditing world (a release in audit, its lab, an
assigned auditor, a regulator) with everything of the release an endpoint could leak."""

from tests.auditing.conftest import later, world  # noqa: F401 (fixtures)
from tests.auditing.test_ended_auditor import engaged  # noqa: F401 (fixture)
