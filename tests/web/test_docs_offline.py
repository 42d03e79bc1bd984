"""/docs, /redoc and the app render with the outside network blocked, and no page asks
another origin for anything (every request the browser made is recorded)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Route, expect

from tests.web.conftest import Visit

pytestmark = [pytest.mark.server, pytest.mark.slow]


def test_docs_and_app_render_offline_stay_on_their_origin_and_fit_a_phone(visit: Visit) -> None:
    blocked: list[str] = []

    def outside_blocked(route: Route) -> None:
        if route.request.url.startswith(visit.origin + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    visit.context.route("**/*", outside_blocked)
    page = visit.page()

    response = page.goto("/docs")
    assert (
        response is not None and "default-src 'self'" in response.headers["content-security-policy"]
    )
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/uploads/{upload_id}/chunks/{index}")
    ).to_be_visible()

    page.goto("/redoc")
    expect(page.get_by_role("heading", name="Create an upload").first).to_be_visible()

    for path, heading in (("/", "Upload"), ("/admin", "Uploads in progress")):
        response = page.goto(path)
        assert response is not None
        assert "style-src 'self';" in response.headers["content-security-policy"] + ";"
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")

    # Phone width: nothing wider than the screen; the main action works from the keyboard.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/admin", "/"):
        page.goto(path)
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    focused = []
    while "Choose files" not in focused and len(focused) < 12:
        page.keyboard.press("Tab")
        focused.append(page.evaluate("() => document.activeElement.textContent"))
    assert focused[-1] == "Choose files", focused
    # Enter on it opens the (multiple) file picker; the test stops it before the dialog.
    page.evaluate(
        """() => document.getElementById("pick-files").addEventListener("click", (event) => {
            window.pickerOpened = event.target.multiple;
            event.preventDefault();
        })"""
    )
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.pickerOpened === true")

    assert visit.foreign() == []
    assert blocked == []
    # Every page runs without a single CSP violation or script error.
    assert visit.errors == []
