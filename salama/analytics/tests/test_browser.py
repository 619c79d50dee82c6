"""The dashboards in a real headless Chromium: Vega-Lite draws every chart under the strict
CSP (no eval, no inline script), and each chart can be reached with the keyboard."""

import pytest

from salama.analytics import snapshot
from salama.conftest import make_incident
from salama.incidents.tests.test_browser import Phone, browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


def test_the_overview_draws_every_chart_without_console_errors(
    browser,  # noqa: F811
    live_server,
    reporter,
    undp,
):
    make_incident(reporter, undp)
    snapshot.refresh(full=True)
    rita = Phone(browser, live_server.url)
    rita.sign_in("rita")
    page = rita.page
    page.goto("/analytics/")
    charts = page.locator(".chart")
    count = charts.count()
    assert count >= 5
    page.wait_for_function(
        "n => document.querySelectorAll('.chart svg.marks').length === n", arg=count
    )
    page.locator(".chart").first.focus()
    assert page.evaluate("document.activeElement.classList.contains('chart')")
    assert rita.errors == []
