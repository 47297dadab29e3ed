"""Each gate kind, met and unmet, as the gate report shows it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from govflow.releases.services import release_gate_report
from tests import factories

pytestmark = pytest.mark.django_db


def gate(report, kind):
    return next(g for g in report["gates"] if g["kind"] == kind)


def test_evidence_document_unmet_without_the_document(lab, release_manager):
    release = factories.release(lab, release_manager)
    report = release_gate_report(release=release, target=None, actor=release_manager)
    g = gate(report, "evidence_document")
    assert report["target"] == "third_party_audit"
    assert g["met"] is False
    assert g["reason"] == "needs 1 red_team_report document(s), 0 attached"
    assert report["all_met"] is False


def test_evidence_document_met_once_attached(lab, release_manager):
    release = factories.release(lab, release_manager)
    doc = factories.attach(release, release_manager, body=b"findings")
    report = release_gate_report(release=release, target=None, actor=release_manager)
    g = gate(report, "evidence_document")
    assert g["met"] is True
    assert g["evidence"]["documents"] == [
        {"id": doc.pk, "name": "doc.txt", "sha256": doc.sha256}
    ]


def test_evidence_of_another_type_does_not_count(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager, document_type="interpretability_report")
    report = release_gate_report(release=release, target=None, actor=release_manager)
    assert gate(report, "evidence_document")["met"] is False


def _at_limited_rollout_gate(lab, release_manager, entered_ago: timedelta):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    from govflow.releases.services import release_advance

    release_advance(release_id=release.pk, actor=release_manager)
    release.refresh_from_db()
    release.stage_entered_at = timezone.now() - entered_ago
    return release


def test_stage_dwell_unmet_before_the_time(lab, release_manager):
    release = _at_limited_rollout_gate(lab, release_manager, timedelta(minutes=10))
    report = release_gate_report(release=release, target=None, actor=release_manager)
    g = gate(report, "stage_dwell")
    assert g["met"] is False
    assert g["reason"].startswith("must stay in third_party_audit until ")
    assert "0.8 h from now" in g["reason"]


def test_stage_dwell_met_after_the_time(lab, release_manager):
    release = _at_limited_rollout_gate(lab, release_manager, timedelta(hours=2))
    report = release_gate_report(release=release, target=None, actor=release_manager)
    g = gate(report, "stage_dwell")
    assert g["met"] is True
    assert g["evidence"]["stage"] == "third_party_audit"


def test_evidence_digest_is_stable_over_time_and_changes_with_evidence(lab, release_manager):
    release = factories.release(lab, release_manager)
    first = release_gate_report(release=release, target=None, actor=release_manager)
    again = release_gate_report(release=release, target=None, actor=release_manager)
    factories.attach(release, release_manager)
    after = release_gate_report(release=release, target=None, actor=release_manager)
    assert first["evidence_digest"] == again["evidence_digest"]
    assert after["evidence_digest"] != first["evidence_digest"]


def test_evidence_document_reads_the_same_with_its_prefetch(lab, release_manager,
                                                           django_assert_num_queries):
    from govflow.gates.engine import prefetch_inputs
    from govflow.releases.models import Release

    # given releases with none, one of another type, and two red-team reports
    bare, other, two = (factories.release(lab, release_manager) for _ in range(3))
    factories.attach(other, release_manager, document_type="interpretability_report")
    for body in (b"second", b"first"):
        factories.attach(two, release_manager, body=body)
    ids = [bare.pk, other.pk, two.pk]
    plain = [release_gate_report(release=r, target=None, actor=None)
             for r in Release.objects.filter(pk__in=ids).order_by("pk")]

    # when the documents of all three are loaded in one query first
    loaded = list(Release.objects.filter(pk__in=ids).select_related("system_version")
                  .order_by("pk"))
    with django_assert_num_queries(1):
        prefetch_inputs(loaded, {"evidence_document", "stage_dwell", "no_such_kind"})
    prefetched = [release_gate_report(release=r, target=None, actor=None) for r in loaded]

    # then the gates say the same, documents in the same order
    def view(report):
        return [(g["met"], g["reason"], g["evidence"]) for g in report["gates"]]

    assert [view(r) for r in prefetched] == [view(r) for r in plain]
    assert [g["met"] for r in prefetched for g in r["gates"]] == [False, False, True]
