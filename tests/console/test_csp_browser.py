"""The console under its Content-Security-Policy in a real browser: every page a regulator
walks through (WebCrypto key generation and signing included), the whistleblower form,
the API docs and the admin login work, and the browser reports no CSP violation."""

from __future__ import annotations

import re

import pytest

from govflow.oversight.models import RegulatoryHold
from tests.console.conftest import wait_for_public_key
from tests.console.test_browser import (  # noqa: F401 (fixture)
    CHROMIUM,
    _page,
    world,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at "
                       "/usr/bin/chromium (apt-get install chromium; make chromium)"),
]

# Records every violation the page's policy reports, from the first script on.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def test_the_console_works_under_its_csp_with_webcrypto_signing(
        browser, server, world):  # noqa: F811 (the fixtures imported above)
    release = world["release"]
    page = _page(browser, server)
    page.context.add_init_script(WATCH)
    reported: list[str] = []
    page.on("console", lambda message: reported.append(message.text)
            if "Content Security Policy" in message.text else None)
    seen: list[str] = []

    def visit(path: str) -> None:
        response = page.goto(f"{server.url}{path}")
        assert response.status == 200, path
        assert response.headers.get("content-security-policy"), path
        seen.extend(page.evaluate("window.__cspViolations"))

    # the regulator signs in and walks the console
    page.goto(f"{server.url}/console/login/")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/console/")
    for path in ("/console/", f"/console/releases/{release.pk}/", "/console/audit/",
                 "/console/checkpoints/", "/console/oversight/"):
        visit(path)
    visit(f"/console/releases/{release.pk}/")
    assert page.locator("#timeline figure.chart svg").is_visible()

    # makes a key in the browser with WebCrypto and registers it: sign.js ran
    visit("/console/keys/")
    assert page.locator("#browser-keys").is_visible(), "WebCrypto Ed25519 is not available"
    page.click("#generate-key")
    wait_for_public_key(page)
    page.click("#register-key")
    page.wait_for_selector("code.key-id")
    seen.extend(page.evaluate("window.__cspViolations"))

    # and signs a hold in the browser
    visit(f"/console/releases/{release.pk}/")
    page.fill("#place-hold input[name=reason]", "pending review of the eval runs")
    page.click("#place-hold button[type=submit]")
    page.wait_for_selector("#sign-in-browser:enabled")
    seen.extend(page.evaluate("window.__cspViolations"))
    page.click("#sign-in-browser")
    page.wait_for_url(re.compile(rf".*/console/releases/{release.pk}/$"))
    assert "Regulatory hold" in page.locator(".banner.bad").inner_text()
    assert RegulatoryHold.objects.count() == 1
    seen.extend(page.evaluate("window.__cspViolations"))

    # the public form, the API docs (Swagger UI renders) and the admin login
    visit("/whistleblow/")
    page.goto(f"{server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=20000)
    seen.extend(page.evaluate("window.__cspViolations"))
    visit("/admin/login/")

    # then nothing was blocked
    assert seen == []
    assert reported == []
