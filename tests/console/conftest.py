"""Console fixtures: signed-in browsers-as-clients for each persona, and a real browser
(Playwright driving Debian's Chromium) against a live server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "pw-for-tests-1"  # the factories' password


def open_page(browser, server, username=None):
    """A new browser page, signed in to the console as ``username`` when one is given."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    if username:
        page.goto(f"{server.url}/console/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/console/")
    return page


def wait_for_public_key(page) -> None:
    """Until sign.js has filled in the key it generated. A locator wait rather than
    `page.wait_for_function("…")`, which evaluates a string in the page: the console's
    policy has no 'unsafe-eval', and Chromium refused that evaluation now and then."""
    from playwright.sync_api import expect

    expect(page.locator("#public-key")).to_have_value(re.compile(r"\S{41,}"), timeout=15000)


def screenshot(page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def server(live_db, request):
    # live_db first, so the append-only tables can be flushed after the test
    return request.getfixturevalue("live_server")


@pytest.fixture
def browser(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls
    # are synchronous and run between browser steps, never inside the loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
