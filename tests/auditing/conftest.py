"""The auditing world: a lab and its release in third-party audit, another lab, two
certified auditor firms (one assigned), a regulator; everyone holds a registered key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from tests.auditing.support import Person, assign, audited_release, certify, person


@dataclass
class World:
    lab: Any
    firm: Any
    other_firm: Any
    manager: Person  # release manager of the lab that owns the release
    outsider: Person  # release manager of another lab
    erin: Person  # auditor, assigned to the release
    frank: Person  # auditor of the same firm, not assigned
    ursula: Person  # auditor of another certified firm, not assigned
    rita: Person  # regulator
    release: Any
    certificate: Any
    other_certificate: Any
    assignment: Any

    def personas(self) -> dict[str, Person | None]:
        return {"lab_manager": self.manager, "other_lab_manager": self.outsider,
                "assigned_auditor": self.erin, "unassigned_auditor": self.ursula,
                "regulator": self.rita, "anonymous": None}


def make_world() -> World:
    lab = factories.organization(kind="lab")
    other_lab = factories.organization(kind="lab")
    firm = factories.organization(kind="auditor")
    other_firm = factories.organization(kind="auditor")
    regulators = factories.organization(kind="regulator")
    manager = person(lab, "release_manager", username="alice")
    rita = person(regulators, "regulator", username="rita")
    release = audited_release(lab, manager.user)
    erin = person(firm, "auditor", username="erin")
    certificate = certify(rita, firm)
    other_certificate = certify(rita, other_firm)
    return World(
        lab=lab, firm=firm, other_firm=other_firm, manager=manager,
        outsider=person(other_lab, "release_manager", username="oscar"),
        erin=erin, frank=person(firm, "auditor", username="frank"),
        ursula=person(other_firm, "auditor", username="ursula"), rita=rita, release=release,
        certificate=certificate, other_certificate=other_certificate,
        assignment=assign(rita, release, erin),
    )


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture
def live_world(live_db) -> World:
    """The same world, committed: for tests that need concurrent connections."""
    return make_world()


@pytest.fixture
def later(monkeypatch):
    """Move the server's clock forward: later(days=…)."""

    def move(**delta):
        moved = timezone.now() + timedelta(**delta)
        monkeypatch.setattr(timezone, "now", lambda: moved)
        return moved

    return move
