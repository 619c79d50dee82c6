"""The incident pages in a real headless Chromium on a phone-sized screen (Playwright).

Run only these with ``pytest -m browser``; leave them out with ``-m "not browser"``.
Without /usr/bin/chromium they are skipped, unless SALAMA_REQUIRE_BROWSER=true (CI), where a
missing browser is a failure rather than a silent skip.
"""

import os
import re
from pathlib import Path

import pytest
from django.db import connections

from salama.conftest import PASSWORD
from salama.incidents import choices as c
from salama.incidents.models import Incident

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# inside one unless told that this is deliberate (the test thread only reads between steps).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000

pytestmark = pytest.mark.browser


def _unavailable(reason: str):
    if os.environ.get("SALAMA_REQUIRE_BROWSER", "false") == "true":
        pytest.fail(f"{reason}, and SALAMA_REQUIRE_BROWSER=true requires the browser tests")
    pytest.skip(reason)


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            # While Playwright's loop runs, the test's ORM reads get a connection of their
            # own; close it, or PostgreSQL refuses to drop the test database at the end.
            connections.close_all()


class Phone:
    """One person's browser session on a phone-sized screen, recording console errors."""

    def __init__(self, browser, base_url):
        self.context = browser.new_context(viewport=PHONE, base_url=base_url, has_touch=True)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message):
        # Any error counts: a CSP refusal, a script error, a missing file (the favicon too).
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def sign_in(self, username):
        page = self.page
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/incidents/$"))

    def next_step(self, heading):
        self.page.get_by_role("button", name="Save and continue").click()
        self.page.get_by_role("heading", name=heading).wait_for()


def test_a_report_is_made_on_a_phone_endorsed_by_a_colleague_and_found_by_search(
    browser, live_server, reporter, endorser
):
    rita = Phone(browser, live_server.url)
    rita.sign_in("rita")
    page = rita.page

    # Step 1: when, where and what kind.
    page.goto("/incidents/report/")
    page.fill("#id_date", "2024-03-14")
    page.select_option("#id_country", "SS")
    page.fill("#id_place", "Juba")
    page.select_option("#id_subcategory", "crime")  # sets the category too (incidents.js)
    assert page.input_value("#id_category") == "violence"
    rita.next_step("Step 2 of 5: What happened")

    # Step 2: what happened.
    page.select_option("#id_means_of_attack", "shooting")
    page.check("#id_vehicles_hit")
    page.fill("#id_narrative", "Gunmen stopped a marked quokka-white vehicle near the bridge.")
    rita.next_step("Step 3 of 5: Who was affected")

    # Step 3: two affected persons; the second row is added by the button.
    page.select_option("#id_persons-0-impact", "injured")
    page.select_option("#id_persons-0-gender", "female")
    page.get_by_role("button", name="Add a person or group").click()
    page.select_option("#id_persons-1-impact", "killed")
    page.fill("#id_persons-1-count", "2")
    rita.next_step("Step 4 of 5: Sources")

    # Step 4: no source; step 5: marking with plain-language help, then submit.
    rita.next_step("Step 5 of 5: Marking")
    assert page.get_by_text("Every signed-in user of Salama").is_visible()
    assert not page.locator("[data-recipients]").is_visible()
    page.check("input[name=marking][value=RED]")
    assert page.locator("[data-recipients]").is_visible()
    page.check("input[name=marking][value=GREEN]")
    page.get_by_role("button", name="Save and submit").click()
    page.get_by_text("is submitted").wait_for()

    incident = Incident.objects.get()
    assert incident.status == c.Status.SUBMITTED and incident.reported_by == reporter
    assert sorted(incident.persons.values_list("impact", "count")) == [
        ("injured", 1),
        ("killed", 2),
    ]
    assert rita.errors == []

    # A second person, an endorser of the same organisation, endorses it.
    emma = Phone(browser, live_server.url)
    emma.sign_in("emma")
    emma.page.goto(f"/incidents/{incident.reference}/")
    emma.page.get_by_role("button", name="Endorse").click()
    emma.page.get_by_text("is endorsed").wait_for()
    incident.refresh_from_db()
    assert incident.status == c.Status.ENDORSED and incident.endorsed_by == endorser

    # The incident is found in the list with the search box (results swapped in by htmx).
    emma.page.goto("/incidents/")
    emma.page.fill("input[name=q]", "quokka")
    emma.page.press("input[name=q]", "Enter")
    emma.page.wait_for_url(re.compile(r"q=quokka"))
    results = emma.page.locator("#results")
    results.get_by_role("link", name=incident.reference).wait_for()
    assert results.locator("tbody tr").count() == 1
    assert emma.page.locator(".map img").is_visible()
    assert emma.errors == []
    rita.context.close()
    emma.context.close()
