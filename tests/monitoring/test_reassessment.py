"""Re-assessment: a new system version that adds affordances does not inherit the stage
its predecessor earned; the policy says where it starts again, and what an affordance
makes reachable widens the eval coverage the gates demand."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from govflow.audit.events import EventType
from govflow.audit.models import AuditEvent
from govflow.core.errors import Conflict
from govflow.monitoring.affordances import required_coverage
from govflow.monitoring.services import release_change_system_version
from govflow.policy.selectors import policy_of
from govflow.releases.services import release_advance, release_set_status
from govflow.rollout.services import cohort_admit
from govflow.systems.services import system_version_create
from tests import factories
from tests.rollout.support import customer, events_since, last_event_id, release_at


@pytest.fixture
def deployed(world):
    """A release of a system with retrieval, in its limited rollout."""
    release = release_at(world.lab, world.manager.user, "third_party_audit", retrieval=True)
    customer(world.lab, world.manager.user, "cust-1")
    cohort_admit(release_id=release.pk, stage="limited_rollout", external_ids=["cust-1"],
                 actor=world.manager.user)
    release_advance(release_id=release.pk, actor=world.manager.user)
    release.refresh_from_db()
    return release


def _next_version(world, release, **changes):
    manifest = {**release.system_version.manifest, **changes}
    return system_version_create(system_id=release.system_version.system_id, manifest=manifest,
                                 actor=world.manager.user)


def _client(person) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {person.token}")
    return client


def test_adding_internet_access_resets_the_stage_and_widens_eval_coverage(world, deployed):
    policy = policy_of(deployed.policy)
    before = required_coverage(deployed.system_version, policy)
    assert before == ["retrieval"]
    v2 = _next_version(world, deployed, internet_access=True)
    mark = last_event_id()
    outcome = release_change_system_version(release_id=deployed.pk, system_version_id=v2.pk,
                                            reason="browsing tool for customers",
                                            actor=world.manager.user)
    # then the release runs v2 from where the policy says internet access must start
    deployed.refresh_from_db()
    assert deployed.system_version_id == v2.pk
    assert deployed.stage == "internal_evals"
    assert outcome.restarted_at == "internal_evals"
    # two changes, two events: the version change, then the rollback the verifier knows
    assert events_since(mark) == ["release.system_version_changed", "release.rolled_back"]
    changed = AuditEvent.objects.get(event_type=EventType.RELEASE_SYSTEM_VERSION_CHANGED)
    assert changed.payload["added"] == ["code_execution", "compute_purchase", "internet_access"]
    assert changed.payload["newly_reachable"] == ["code_execution", "compute_purchase"]
    assert changed.payload["restart_stage"] == "internal_evals"
    # and the eval coverage required now spans what internet access reaches
    after = required_coverage(v2, policy)
    assert after == ["code_execution", "compute_purchase", "internet_access", "retrieval"]
    assert changed.payload["required_coverage"] == after


def test_a_change_that_adds_no_affordance_keeps_the_stage(world, deployed):
    v2 = _next_version(world, deployed, system_prompt_digest="sha256:" + "ab" * 32)
    mark = last_event_id()
    release_change_system_version(release_id=deployed.pk, system_version_id=v2.pk,
                                  reason="clearer refusals", actor=world.manager.user)
    deployed.refresh_from_db()
    assert deployed.stage == "limited_rollout"
    assert deployed.system_version_id == v2.pk
    assert events_since(mark) == ["release.system_version_changed"]


def test_a_new_tool_goes_back_to_the_audit_as_the_policy_says(world, deployed):
    v2 = _next_version(world, deployed, tools=["search", "send_email"])
    outcome = release_change_system_version(release_id=deployed.pk, system_version_id=v2.pk,
                                            reason="email", actor=world.manager.user)
    assert outcome.reassessment.added == ["tool:send_email"]
    assert outcome.restarted_at == "third_party_audit"


def test_a_release_already_before_the_restart_stage_stays_where_it_is(world):
    release = release_at(world.lab, world.manager.user, "internal_evals")
    v2 = _next_version(world, release, internet_access=True)
    outcome = release_change_system_version(release_id=release.pk, system_version_id=v2.pk,
                                            reason="x", actor=world.manager.user)
    assert outcome.restarted_at is None
    assert outcome.transition is None


def test_without_a_reassessment_section_any_addition_goes_back_to_the_first_stage(world):
    release = factories.release(world.lab, world.manager.user)  # SIMPLE_POLICY: no section
    factories.attach(release, world.manager.user)
    release_advance(release_id=release.pk, actor=world.manager.user)
    v2 = _next_version(world, release, retrieval=True)
    outcome = release_change_system_version(release_id=release.pk, system_version_id=v2.pk,
                                            reason="x", actor=world.manager.user)
    assert outcome.restarted_at == "internal_evals"


def test_a_halted_release_and_another_systems_version_are_refused(world, deployed):
    other = factories.system_version(world.lab, world.manager.user)
    with pytest.raises(Exception, match="has no version"):
        release_change_system_version(release_id=deployed.pk, system_version_id=other.pk,
                                      reason="x", actor=world.manager.user)
    release_set_status(release_id=deployed.pk, move=EventType.RELEASE_HALTED, reason="stop",
                       actor=world.manager.user)
    v2 = _next_version(world, deployed, internet_access=True)
    with pytest.raises(Conflict, match="halted"):
        release_change_system_version(release_id=deployed.pk, system_version_id=v2.pk,
                                      reason="x", actor=world.manager.user)


def test_the_api_previews_then_changes_with_if_match(world, deployed):
    v2 = _next_version(world, deployed, internet_access=True)
    lab = _client(world.manager)
    url = f"/api/releases/{deployed.pk}/system-version"
    preview = lab.get(url, {"system_version": v2.pk}).json()
    assert preview["restart_stage"] == "internal_evals"
    assert preview["added"] == ["code_execution", "compute_purchase", "internet_access"]
    deployed.refresh_from_db()
    assert deployed.stage == "limited_rollout"  # the preview changed nothing
    body = {"system_version": v2.pk, "reason": "browsing"}
    assert lab.post(url, body, format="json").status_code == 428
    changed = lab.post(url, body, format="json", HTTP_IF_MATCH=deployed.etag)
    assert changed.status_code == 200, changed.json()
    assert changed.json()["release"]["stage"] == "internal_evals"
    assert changed.json()["transition"]["kind"] == "rollback"
    assert _client(world.outsider).get(url, {"system_version": v2.pk}).status_code == 404
    assert _client(world.signer).post(url, body, format="json",
                                      HTTP_IF_MATCH=deployed.etag).status_code == 403
