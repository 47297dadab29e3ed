"""The stage machine: open, advance, roll back, pause; each writes exactly one event."""

from __future__ import annotations

import pytest

from govflow.audit.events import EventType
from govflow.audit.models import AuditEvent
from govflow.core.errors import Conflict, GateNotMet, StaleVersion
from govflow.releases.models import ReleaseStatus, StageTransition
from govflow.releases.services import (
    release_advance,
    release_rollback,
    release_set_status,
)
from tests import factories

pytestmark = pytest.mark.django_db


def events_since(mark: int) -> list[str]:
    return list(AuditEvent.objects.filter(pk__gt=mark).values_list("event_type", flat=True))


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_open_starts_at_the_first_stage(lab, release_manager):
    release = factories.release(lab, release_manager)
    assert release.stage == "internal_evals"
    assert release.status == ReleaseStatus.ACTIVE
    opened = AuditEvent.objects.get(event_type="release.opened", release_id=release.pk)
    assert opened.payload["policy_digest"] == release.policy.digest


def test_advance_with_gates_met_records_transition_report_and_one_event(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    mark = last_event_id()

    transition = release_advance(release_id=release.pk, actor=release_manager)

    release.refresh_from_db()
    assert release.stage == "third_party_audit"
    assert release.version == 2
    assert transition.gate_report["all_met"] is True
    assert transition.policy_digest == release.policy.digest
    assert events_since(mark) == ["release.advanced"]


def test_advance_refused_with_the_report_and_nothing_written(lab, release_manager):
    release = factories.release(lab, release_manager)
    mark = last_event_id()

    with pytest.raises(GateNotMet) as refused:
        release_advance(release_id=release.pk, actor=release_manager)

    report = refused.value.detail["gate_report"]
    assert report["all_met"] is False
    release.refresh_from_db()
    assert release.stage == "internal_evals"
    assert events_since(mark) == []
    assert StageTransition.objects.filter(release=release).count() == 1  # the opening


def test_advance_skipping_a_stage_is_refused(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    with pytest.raises(Conflict, match="one stage at a time"):
        release_advance(release_id=release.pk, actor=release_manager, target="limited_rollout")


def test_stale_version_is_refused(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    with pytest.raises(StaleVersion):
        release_advance(release_id=release.pk, actor=release_manager, expected_version=7)


def test_rollback_returns_to_an_earlier_stage(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    release_advance(release_id=release.pk, actor=release_manager)
    mark = last_event_id()

    transition = release_rollback(
        release_id=release.pk, target="internal_evals", reason="critical finding",
        actor=release_manager,
    )

    release.refresh_from_db()
    assert release.stage == "internal_evals"
    assert transition.reason == "critical finding"
    assert events_since(mark) == ["release.rolled_back"]


def test_rollback_forward_is_refused(lab, release_manager):
    release = factories.release(lab, release_manager)
    with pytest.raises(Conflict, match="is not before the current stage"):
        release_rollback(
            release_id=release.pk, target="limited_rollout", reason="x", actor=release_manager
        )


def test_paused_release_cannot_advance_until_resumed(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    release_set_status(
        release_id=release.pk, move=EventType.RELEASE_PAUSED, reason="incident",
        actor=release_manager,
    )
    with pytest.raises(Conflict, match="is paused"):
        release_advance(release_id=release.pk, actor=release_manager)
    release_set_status(
        release_id=release.pk, move=EventType.RELEASE_RESUMED, reason="fixed",
        actor=release_manager,
    )
    release_advance(release_id=release.pk, actor=release_manager)
    release.refresh_from_db()
    assert release.stage == "third_party_audit"


def test_a_changed_policy_file_does_not_change_an_open_release(lab, release_manager):
    release = factories.release(lab, release_manager)
    stricter = factories.SIMPLE_POLICY.replace(
        "document_type: red_team_report", "document_type: red_team_report\n        min_count: 5"
    )
    factories.policy(stricter)
    factories.attach(release, release_manager)
    release_advance(release_id=release.pk, actor=release_manager)  # old rule: one report
    release.refresh_from_db()
    assert release.stage == "third_party_audit"
