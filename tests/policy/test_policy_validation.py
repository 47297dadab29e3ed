"""Policy files: every bad policy is refused with its line, path and an actionable message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from govflow.policy.document import PolicyInvalid, load_policy_file, parse_policy

REPO = Path(__file__).resolve().parents[2]


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(textwrap.dedent(text), source="bad.yaml")
    return [str(p) for p in caught.value.problems]


BAD_POLICIES = [
    pytest.param(
        "name: x\nstages: [\n", "bad.yaml:3: YAML syntax error", id="yaml-syntax"
    ),
    pytest.param("- just\n- a list\n", "a policy must be a YAML mapping", id="not-a-mapping"),
    pytest.param(
        "stages:\n  - name: a\n", "bad.yaml:1: name: is required", id="missing-name"
    ),
    pytest.param("name: p\nstages: []\n", "stages: is required", id="no-stages"),
    pytest.param(
        """\
        name: p
        stages:
          - name: a
          - name: b
            gates:
              - kind: telepathy
        """,
        "bad.yaml:6: stages[1].gates[0].kind: unknown gate kind 'telepathy'; known kinds:",
        id="unknown-kind",
    ),
    pytest.param(
        """\
        name: p
        stages:
          - name: a
          - name: b
            gates:
              - kind: evidence_document
        """,
        "bad.yaml:6: stages[1].gates[0]: evidence_document requires 'document_type'",
        id="missing-param",
    ),
    pytest.param(
        """\
        name: p
        stages:
          - name: a
          - name: b
            gates:
              - kind: stage_dwell
                min_hours: lots
        """,
        "bad.yaml:7: stages[1].gates[0].min_hours: must be a number, got 'lots'",
        id="param-wrong-type",
    ),
    pytest.param(
        """\
        name: p
        stages:
          - name: a
          - name: b
            gates:
              - kind: stage_dwell
                min_hours: -3
        """,
        "stages[1].gates[0].min_hours: must be at least 0, got -3",
        id="param-out-of-range",
    ),
    pytest.param(
        """\
        name: p
        stages:
          - name: a
          - name: b
            gates:
              - kind: evidence_document
                document_type: report
                colour: blue
        """,
        "bad.yaml:8: stages[1].gates[0].colour: evidence_document has no parameter 'colour'",
        id="unknown-param",
    ),
    pytest.param(
        """\
        name: p
        stages:
          - name: a
            gates:
              - kind: evidence_document
                document_type: report
          - name: b
        """,
        "stages[0].gates: the first stage is entered when a release opens; it has no gates",
        id="gates-on-first-stage",
    ),
    pytest.param(
        """\
        name: p
        stages:
          - name: a
          - name: a
        """,
        "bad.yaml:4: stages[1].name: stage 'a' is listed twice",
        id="duplicate-stage",
    ),
    pytest.param(
        """\
        name: p
        stages:
          - name: a
          - name: weights
            irreversible: true
          - name: c
        """,
        "stages[1].irreversible: only the last stage can be irreversible",
        id="irreversible-not-last",
    ),
    pytest.param(
        """\
        name: p
        stages:
          - name: a
          - name: b
            gates:
              - kind: stage_dwell
        """,
        "stage_dwell needs min_days or min_hours greater than zero",
        id="kind-cross-check",
    ),
    pytest.param(
        "name: p\nowner: me\nstages:\n  - name: a\n",
        "bad.yaml:2: owner: unknown key; a policy has: description, name, stages, version",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "name: p\nname: q\nstages:\n  - name: a\n",
        "bad.yaml:2: key 'name' appears twice",
        id="duplicate-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_POLICIES)
def test_bad_policy_is_refused_with_a_located_message(text, expected):
    # given a policy file with one mistake / when it is parsed
    found = problems(text)
    # then the problem names where it is and what to do
    assert any(expected in p for p in found), found


def test_every_problem_in_a_file_is_reported_at_once():
    found = problems(
        """\
        name: p
        stages:
          - name: a
          - name: b
            gates:
              - kind: telepathy
              - kind: stage_dwell
                min_hours: soon
        """
    )
    assert len(found) == 2


def test_shipped_policies_are_valid():
    for path in sorted((REPO / "policies").glob("*.yaml")):
        policy = load_policy_file(path)
        assert policy.stage_names[0] == "internal_evals"


def test_digest_ignores_comments_and_layout():
    a = parse_policy("name: p\nstages:\n  - name: a\n")
    b = parse_policy("# a comment\nname: p\nstages: [{name: a}]\n")
    c = parse_policy("name: p\nstages:\n  - name: b\n")
    assert a.digest == b.digest
    assert a.digest != c.digest


def test_policy_check_command_reports_problems_and_fails(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: p\nstages:\n  - name: a\n  - name: b\n    gates:\n      - kind: nope\n")
    with pytest.raises(CommandError, match="1 of 2 policy files are invalid"):
        call_command("policy", "check", str(REPO / "policies/default.yaml"), str(bad))
    err = capsys.readouterr()
    assert f"{bad}:6: stages[1].gates[0].kind: unknown gate kind 'nope'" in err.err
    assert "ok  " in err.out


def test_policy_show_prints_stages_and_gates(capsys):
    call_command("policy", "show", str(REPO / "policies/default.yaml"))
    out = capsys.readouterr().out
    assert "1. internal_evals" in out
    assert "red_team_report (evidence_document)" in out
