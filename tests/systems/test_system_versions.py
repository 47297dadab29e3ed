"""AI systems and their versions: a changed manifest is a new, immutable version."""

from __future__ import annotations

import hashlib
import json

import pytest

from govflow.audit.models import AuditEvent
from govflow.core.errors import Conflict, ValidationFailed
from govflow.systems.models import AISystem, SystemVersion
from govflow.systems.services import system_register, system_version_create
from tests import factories

pytestmark = pytest.mark.django_db


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def events_since(mark: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=mark))


def independent_digest(normalized: dict) -> str:
    """RFC 8785 for this data (strings, integers, booleans, null): sorted keys, no spaces,
    UTF-8 as is. Computed without the code under test."""
    text = json.dumps(normalized, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def register(client, name: str = "agent", **changes):
    return client.post(
        "/api/systems/register",
        {"name": name, "manifest": factories.manifest(**changes)},
        format="json",
    )


def test_register_through_the_api_creates_version_1(api, lab, release_manager):
    client = api(release_manager)
    mark = last_event_id()

    response = register(client)

    body = response.json()
    assert response.status_code == 201
    assert body["number"] == 1
    assert body["manifest_digest"] == independent_digest(body["manifest"])
    system = AISystem.objects.get(pk=body["system"])
    assert (system.organization, system.name) == (lab, "agent")
    [event] = events_since(mark)
    assert (event.event_type, event.payload["manifest_digest"]) == (
        "system.registered", body["manifest_digest"]
    )


def test_register_through_the_service_stores_the_normalized_manifest(lab, release_manager):
    mark = last_event_id()

    version = system_register(
        organization=lab, name="agent",
        manifest=factories.manifest(tools=["shell", "search", "shell"]), actor=release_manager,
    )

    assert version.number == 1
    assert version.manifest["tools"] == ["search", "shell"]
    assert version.manifest["internet_access"] is False
    assert version.manifest_digest == independent_digest(version.manifest)
    assert [e.event_type for e in events_since(mark)] == ["system.registered"]


def test_a_system_name_is_unique_in_its_lab(lab, release_manager):
    system_register(
        organization=lab, name="agent", manifest=factories.manifest(), actor=release_manager
    )
    with pytest.raises(Conflict, match="already has a system named"):
        system_register(
            organization=lab, name="agent", manifest=factories.manifest(), actor=release_manager
        )


def test_a_changed_manifest_is_version_2_and_version_1_is_untouched(api, release_manager):
    # given a registered system
    client = api(release_manager)
    v1 = register(client).json()
    before = SystemVersion.objects.filter(pk=v1["id"]).values().get()
    mark = last_event_id()

    # when internet access is added to its manifest
    response = client.post(
        f"/api/systems/{v1['system']}/versions",
        {"manifest": factories.manifest(internet_access=True)},
        format="json",
    )

    # then it is a new version with a new digest, and the old row is as it was
    body = response.json()
    assert response.status_code == 201
    assert body["number"] == 2
    assert body["manifest_digest"] != v1["manifest_digest"]
    assert body["manifest_digest"] == independent_digest(body["manifest"])
    assert SystemVersion.objects.filter(pk=v1["id"]).values().get() == before
    [event] = events_since(mark)
    assert event.event_type == "system.version_created"
    assert event.payload["previous_digest"] == v1["manifest_digest"]
    assert event.payload["added_affordances"] == ["internet_access"]


def test_an_unchanged_manifest_is_409(api, release_manager):
    client = api(release_manager)
    v1 = register(client).json()
    mark = last_event_id()

    response = client.post(
        f"/api/systems/{v1['system']}/versions", {"manifest": factories.manifest()},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["version"] == 1
    assert SystemVersion.objects.filter(system_id=v1["system"]).count() == 1
    assert events_since(mark) == []


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"model": {"name": "m", "weights_digest": "sha256:abc", "parameter_count": 1}},
         "model.weights_digest"),
        ({"model": {"name": "m", "weights_digest": "md5:" + "0" * 32, "parameter_count": 1}},
         "model.weights_digest"),
        ({"colour": "blue"}, "colour"),
        ({"model": {"name": "m", "weights_digest": "sha256:" + "0" * 64, "parameter_count": 1,
                    "layers": 80}}, "model.layers"),
        ({"internet_access": "yes"}, "internet_access"),
    ],
)
def test_an_invalid_manifest_is_400_with_the_path(api, release_manager, changes, path):
    client = api(release_manager)
    mark = last_event_id()

    response = register(client, **changes)

    body = response.json()
    assert response.status_code == 400
    assert [f["path"] for f in body["fields"]] == [path]
    assert not AISystem.objects.exists()
    assert events_since(mark) == []


def test_an_invalid_new_version_is_400_and_adds_nothing(api, release_manager):
    client = api(release_manager)
    v1 = register(client).json()

    response = client.post(
        f"/api/systems/{v1['system']}/versions",
        {"manifest": factories.manifest(unknown_field=1)},
        format="json",
    )

    assert response.status_code == 400
    assert [f["path"] for f in response.json()["fields"]] == ["unknown_field"]
    assert SystemVersion.objects.filter(system_id=v1["system"]).count() == 1


def test_the_digest_ignores_key_order_and_tool_order(lab, release_manager):
    # given the same manifest written two ways
    written = factories.manifest(tools=["search", "calculator", "shell"], retrieval=True)
    rewritten = {
        "retrieval": True,
        "tools": ["shell", "search", "calculator"],
        "model": dict(reversed(list(written["model"].items()))),
    }

    # when both are registered
    first = system_register(organization=lab, name="a", manifest=written, actor=release_manager)
    second = system_register(organization=lab, name="b", manifest=rewritten, actor=release_manager)

    # then they are one system content with one digest, the RFC 8785 one
    assert first.manifest_digest == second.manifest_digest
    assert first.manifest_digest == independent_digest(first.manifest)


def test_a_reordered_manifest_is_not_a_new_version(lab, release_manager):
    v1 = system_register(
        organization=lab, name="a", manifest=factories.manifest(tools=["a", "b"]),
        actor=release_manager,
    )
    with pytest.raises(Conflict, match="unchanged"):
        system_version_create(
            system_id=v1.system_id,
            manifest=dict(reversed(list(factories.manifest(tools=["b", "a"]).items()))),
            actor=release_manager,
        )


def test_the_service_refuses_an_invalid_manifest_with_the_path(lab, release_manager):
    with pytest.raises(ValidationFailed) as refused:
        system_register(
            organization=lab, name="a", manifest=factories.manifest(tools="shell"),
            actor=release_manager,
        )
    assert refused.value.detail["fields"][0]["path"] == "tools"


def test_another_labs_system_is_404(api, release_manager, outsider):
    theirs = factories.system_version(outsider.memberships.get().organization, outsider)
    client = api(release_manager)
    mark = last_event_id()

    new_version = client.post(
        f"/api/systems/{theirs.system_id}/versions",
        {"manifest": factories.manifest(internet_access=True)},
        format="json",
    )

    assert new_version.status_code == 404
    assert client.get(f"/api/systems/{theirs.system_id}").status_code == 404
    assert client.get(f"/api/system-versions/{theirs.pk}").status_code == 404
    assert client.get("/api/systems").json()["results"] == []
    assert SystemVersion.objects.filter(system_id=theirs.system_id).count() == 1
    assert events_since(mark) == []
