"""The reference pages under docs/reference/ are what the code generates today."""

from __future__ import annotations

import pytest

from govflow.console.reference import PAGES, REFERENCE_DIR


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_committed_page_is_what_the_generator_writes(name):
    committed = (REFERENCE_DIR / name).read_text(encoding="utf-8")

    assert committed == PAGES[name](), (
        f"docs/reference/{name} is stale: run `make docs` (manage.py docs_reference) "
        "and commit the result")


def test_the_pages_name_what_the_readme_used_to_forget():
    assert "## `no_sanction`" in PAGES["gate-kinds.md"]()
    assert "`/api/releases/{id}/dossier`" in PAGES["api.md"]()
