"""The eval-run API: lab staff start and resume runs of their releases by endpoint *name*;
regulators see every lab's runs; another lab gets 404."""

from __future__ import annotations

import pytest

from govflow.evalruns.execution import execute_inline
from govflow.evalruns.models import EvalRun
from govflow.evalruns.services import eval_run_fail
from tests.evalruns.support import FACTORS, events, start

pytestmark = pytest.mark.django_db


def body(**changes) -> dict:
    return {"scenario": "insider_trading", "factors": FACTORS, "samples_per_cell": 3,
            "endpoint": "sim", "judge_endpoint": "sim", "seed": 4, "temperature": 0.7,
            **changes}


def test_lab_staff_start_a_run_by_endpoint_name(api, release, release_manager, sim):
    response = api(release_manager).post(f"/api/releases/{release.pk}/eval-runs", body(),
                                         format="json")

    assert response.status_code == 201, response.json()
    run = response.json()
    assert (run["status"], run["total_samples"], run["endpoint"]) == ("queued", 6, "sim")
    assert run["progress"] == {"total": 6, "stored": 0, "missing": 6, "by_status": {}}
    assert run["temperature"] == 0.7
    assert [e.event_type for e in events()] == ["eval_run.started"]


@pytest.mark.parametrize("field", ["endpoint", "judge_endpoint"])
def test_a_url_instead_of_an_endpoint_name_is_refused(api, release, release_manager, sim,
                                                       field):
    response = api(release_manager).post(
        f"/api/releases/{release.pk}/eval-runs",
        body(**{field: "http://169.254.169.254/latest/meta-data/"}), format="json")

    assert response.status_code == 400
    [problem] = response.json()["fields"]
    assert problem["path"] == field
    assert "URLs are not accepted" in problem["message"]
    assert not EvalRun.objects.exists()


def test_a_base_url_field_is_refused_not_ignored(api, release, release_manager, sim):
    response = api(release_manager).post(
        f"/api/releases/{release.pk}/eval-runs",
        body(base_url="http://attacker.example/v1", api_key="sk-x"), format="json")

    assert response.status_code == 400
    assert {f["path"] for f in response.json()["fields"]} == {"base_url", "api_key"}
    assert not EvalRun.objects.exists()


def test_another_lab_gets_404_and_a_regulator_may_not_start_runs(
    api, release, outsider, regulator, sim
):
    url = f"/api/releases/{release.pk}/eval-runs"

    assert api(outsider).post(url, body(), format="json").status_code == 404
    assert api(outsider).get(url).status_code == 404
    assert api(regulator).post(url, body(), format="json").status_code == 403
    assert not EvalRun.objects.exists()


def test_who_sees_which_runs(api, release, release_manager, outsider, regulator, sim):
    run = start(release, release_manager, samples=2)
    execute_inline(run_id=run.pk)

    mine = api(release_manager).get("/api/eval-runs").json()
    theirs = api(outsider).get("/api/eval-runs").json()
    everyone = api(regulator).get(f"/api/eval-runs?release={release.pk}").json()

    assert [r["id"] for r in mine["results"]] == [run.pk]
    assert mine["results"][0]["stored"] == 4
    assert theirs["count"] == 0
    assert [r["id"] for r in everyone["results"]] == [run.pk]
    assert api(outsider).get(f"/api/eval-runs/{run.pk}").status_code == 404
    assert api(outsider).get(f"/api/eval-runs/{run.pk}/samples").status_code == 404


def test_a_completed_run_shows_its_funnel_per_cell_and_worst_cell(api, release, release_manager,
                                                                   regulator, sim):
    run = start(release, release_manager, samples=3)
    execute_inline(run_id=run.pk)

    shown = api(regulator).get(f"/api/eval-runs/{run.pk}").json()

    assert shown["status"] == "completed"
    assert shown["simulated"] is True
    assert shown["progress"]["missing"] == 0
    assert set(shown["summary"]["cells"]) == set(run.cells)
    joint = shown["summary"]["cells"][run.cells[0]]["metrics"]["joint"]
    assert set(joint) == {"k", "n", "rate", "wilson", "clopper_pearson"}
    assert shown["summary"]["worst_cell"]["joint"]["cell"] in run.cells
    assert shown["summary_digest"].startswith("sha256:")


def test_samples_come_page_by_page(api, release, release_manager, sim):
    run = start(release, release_manager, samples=4)
    execute_inline(run_id=run.pk)

    page = api(release_manager).get(f"/api/eval-runs/{run.pk}/samples?page_size=3").json()
    cell = api(release_manager).get(
        f"/api/eval-runs/{run.pk}/samples?cell={run.cells[1]}").json()

    assert page["count"] == 8
    assert len(page["results"]) == 3
    assert page["next"]
    first = page["results"][0]
    assert first["record"]["provenance"]["simulated"] is True
    assert first["record_digest"].startswith("sha256:")
    assert {s["cell_key"] for s in cell["results"]} == {run.cells[1]}


def test_resume(api, release, release_manager, outsider, regulator, sim):
    run = start(release, release_manager, samples=1)
    eval_run_fail(run_id=run.pk, reason="worker lost")
    url = f"/api/eval-runs/{run.pk}/resume"

    assert api(outsider).post(url).status_code == 404
    assert api(regulator).post(url).status_code == 403
    resumed = api(release_manager).post(url)
    assert resumed.status_code == 200
    assert (resumed.json()["status"], resumed.json()["failure_reason"]) == ("queued", "")

    execute_inline(run_id=run.pk)
    assert api(release_manager).post(url).status_code == 409


def test_withdraw_needs_a_reason_and_keeps_the_samples(api, release, release_manager,
                                                       outsider, regulator, sim):
    run = start(release, release_manager, samples=3)
    url = f"/api/eval-runs/{run.pk}/withdraw"

    assert api(outsider).post(url, {"reason": "x"}, format="json").status_code == 404
    assert api(regulator).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api(release_manager).post(url, {}, format="json").status_code == 400
    withdrawn = api(release_manager).post(url, {"reason": "wrong judge"}, format="json")

    assert withdrawn.status_code == 200
    assert (withdrawn.json()["status"], withdrawn.json()["withdrawal_reason"]) == (
        "withdrawn", "wrong judge")
    assert [e.payload["reason"] for e in events("eval_run.withdrawn")] == ["wrong judge"]
    assert api(release_manager).post(url, {"reason": "again"}, format="json").status_code == 409


def test_the_endpoint_list_names_endpoints_without_their_urls(api, release_manager, sim):
    listed = api(release_manager).get("/api/eval-endpoints").json()

    assert listed == [{"name": "sim", "model": "govflow-simulator"}]


def test_the_schema_documents_every_eval_run_endpoint(api, regulator):
    schema = api(regulator).get("/api/schema/?format=json").json()

    paths = schema["paths"]
    assert {"/api/releases/{id}/eval-runs", "/api/eval-runs", "/api/eval-runs/{id}",
            "/api/eval-runs/{id}/resume", "/api/eval-runs/{id}/withdraw",
            "/api/eval-runs/{id}/samples"} <= set(paths)
    assert {"400", "403", "404", "409"} <= set(
        paths["/api/releases/{id}/eval-runs"]["post"]["responses"])


def test_top_p_and_max_tokens_are_sent_on_every_request_and_recorded_as_sent(
        api, release, release_manager, settings):
    from govflow.evalruns.models import EvalSample
    from tests.evalruns.support import endpoints
    from tests.evals.fake_endpoint import FakeEndpoint, ok

    # Given an endpoint that records each request body, named "fake" by the operator
    endpoint = FakeEndpoint(lambda request: ok({"role": "assistant",
                                                "content": "I will not trade on the tip."}))
    settings.GOVFLOW_EVAL_ENDPOINTS = endpoints(fake=endpoint.base_url)
    try:
        # When a run is started with every sampling setting and executed
        response = api(release_manager).post(
            f"/api/releases/{release.pk}/eval-runs",
            body(endpoint="fake", judge_endpoint="fake", samples_per_cell=1, top_p=0.9,
                 max_tokens=512), format="json")
        assert response.status_code == 201, response.json()
        run_id = response.json()["id"]
        execute_inline(run_id=run_id)
    finally:
        endpoint.close()
    # Then every request carried them, every sample records exactly that, and the
    # registration logged them
    assert endpoint.requests
    assert {(r["temperature"], r.get("top_p"), r.get("max_tokens"))
            for r in endpoint.requests} == {(0.7, 0.9, 512)}
    recorded = [s.record["provenance"]["sampling"] for s in EvalSample.objects.filter(run=run_id)]
    assert recorded
    assert all(r == {"temperature": 0.7, "top_p": 0.9, "max_tokens": 512} for r in recorded)
    started = events("eval_run.started")[0].payload
    assert (started["top_p"], started["max_tokens"]) == (0.9, 512)
