"""The quick report: its page, its JSON endpoint (once per report, checked like the normal
report), its service worker, and, in a real Chromium, a report made offline and sent later."""

import datetime
import json
import re
import time
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from salama.conftest import make_incident, make_user
from salama.incidents import choices as c
from salama.incidents.models import Incident, Source
from salama.incidents.offline import OFFLINE_SYSTEM
from salama.incidents.tests.conftest import signed_in
from salama.incidents.tests.test_browser import Phone, browser  # noqa: F401 (fixture)
from salama.organisations.choices import Role

QUICK = reverse("incidents:quick")
SEND = reverse("incidents:quick_send")
TOKEN = reverse("incidents:quick_token")
WORKER = reverse("incidents:quick_sw")


def report(**overrides) -> dict:
    data = {
        "uuid": str(uuid.uuid4()),
        "date": "2024-03-14",
        "country": "SS",
        "admin1": "Central Equatoria",
        "place": "Juba",
        "category": "violence",
        "subcategory": "crime",
        "narrative": "Armed men stopped a marked vehicle on the Yei road.",
        "killed": "1",
        "injured": "2",
        "abducted": "",
        "detained": "0",
        "vehicles_hit": True,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def send(client, data, **headers):
    return client.post(SEND, json.dumps(data), content_type="application/json", **headers)


# ------------------------------------------------------------------------------- the endpoint


def test_a_quick_report_becomes_a_draft_with_its_people_by_impact(as_reporter, reporter, undp):
    data = report()
    response = send(as_reporter, data)

    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    assert response.json() == {
        "reference": incident.reference,
        "status": "draft",
        "url": reverse("incidents:detail", args=[incident.reference]),
        "created": True,
    }
    assert incident.status == c.Status.DRAFT
    assert (incident.organisation, incident.reported_by) == (undp, reporter)
    assert (incident.date, incident.country, incident.place) == (
        datetime.date(2024, 3, 14),
        "SS",
        "Juba",
    )
    assert incident.vehicles_hit and not incident.premises_hit
    assert incident.marking == "AMBER"  # the normal report's default
    assert sorted(incident.persons.values_list("impact", "count", "cause")) == [
        ("injured", 2, "violence"),
        ("killed", 1, "violence"),
    ]
    source = incident.sources.get()
    assert (source.system, source.external_id, source.kind) == (
        OFFLINE_SYSTEM,
        data["uuid"],
        c.SourceKind.FOCAL_POINT,
    )


def test_a_safety_incident_counts_its_people_as_safety(as_reporter):
    response = send(as_reporter, report(category="safety", subcategory="road_traffic"))
    assert response.status_code == 201
    assert list(Incident.objects.get().persons.values_list("cause", flat=True)) == [
        "safety",
        "safety",
    ]


def test_the_same_report_sent_twice_makes_one_incident(as_reporter):
    data = report()
    first = send(as_reporter, data)
    again = send(as_reporter, data)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["reference"] == first.json()["reference"]
    assert again.json()["created"] is False
    assert Incident.objects.count() == 1
    assert Source.objects.filter(system=OFFLINE_SYSTEM).count() == 1


def test_two_sendings_at_once_make_one_incident(as_reporter, monkeypatch):
    """The second sending does not see the first's incident yet (both looked before either
    saved); the unique (system, external_id) refuses its Source and it answers with the first."""
    from salama.incidents import offline

    data = report()
    first = send(as_reporter, data).json()["reference"]
    real = offline.made_with
    looks = []

    def not_yet(key):
        looks.append(key)
        return None if len(looks) == 1 else real(key)

    monkeypatch.setattr(offline, "made_with", not_yet)
    again = send(as_reporter, data)
    assert again.status_code == 200, again.content
    assert again.json()["reference"] == first and again.json()["created"] is False
    assert len(looks) == 2
    assert Incident.objects.count() == 1


def test_a_report_sent_again_after_its_incident_was_merged_answers_with_the_survivor(
    as_reporter, reporter, endorser, undp
):
    data = report()
    first = Incident.objects.get(reference=send(as_reporter, data).json()["reference"])
    survivor = make_incident(reporter, undp)
    from salama.incidents import services

    services.merge(first, survivor, endorser)
    again = send(as_reporter, data)
    assert again.status_code == 200 and again.json()["reference"] == survivor.reference
    assert Incident.objects.count() == 2


def test_an_invalid_report_is_refused_with_a_message_per_field(as_reporter):
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    response = send(
        as_reporter,
        report(
            date=future,
            subcategory="fire",  # a safety sub-category for a violent incident
            latitude=-1.29,  # Nairobi is in Kenya, far from South Sudan
            longitude=36.82,
            killed="-1",
        ),
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["date"] == [f"The date {future} is in the future."]
    assert "outside South Sudan" in errors["latitude"][0]
    assert errors["subcategory"]
    assert errors["killed"] == ["Ensure this value is greater than or equal to 0."]
    assert not Incident.objects.exists()


def test_an_unknown_country_and_a_missing_category_are_refused(as_reporter):
    response = send(as_reporter, report(country="XX", category=None, subcategory=None))
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert set(errors) >= {"country", "category", "subcategory"}
    assert not Incident.objects.exists()


def test_a_report_without_a_valid_uuid_or_not_an_object_is_refused(as_reporter):
    assert send(as_reporter, report(uuid="not-a-uuid")).json()["errors"]["uuid"]
    assert send(as_reporter, ["a", "list"]).status_code == 400
    assert send(as_reporter, report(country=["SS"])).status_code == 400
    broken = as_reporter.post(SEND, "{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["errors"]["__all__"]
    assert not Incident.objects.exists()


def test_someone_may_not_report_for_an_organisation_they_do_not_report_for(as_reporter, undp, nrc):
    for organisation in (nrc.pk, "not a number"):
        response = send(as_reporter, report(organisation=organisation))
        assert response.status_code == 403
        assert response.json()["errors"]["__all__"] == [
            "You cannot report incidents for this organisation."
        ]
    assert not Incident.objects.exists()
    assert send(as_reporter, report(organisation=undp.pk)).status_code == 201  # their own


def test_an_analyst_without_a_reporting_role_is_refused(as_outsider):
    response = send(as_outsider, report())
    assert response.status_code == 403
    assert not Incident.objects.exists()
    assert as_outsider.get(QUICK).status_code == 403


def test_someone_reporting_for_several_organisations_names_the_owner(undp, nrc):
    both = make_user("bea", undp, roles=(Role.REPORTER,))
    both.memberships.create(organisation=nrc, role=Role.REPORTER)
    client = signed_in(both)

    missing = send(client, report())
    assert missing.status_code == 400 and missing.json()["errors"]["organisation"]
    made = send(client, report(organisation=nrc.pk))
    assert made.status_code == 201
    assert Incident.objects.get().organisation == nrc
    assert 'name="organisation"' in client.get(QUICK).content.decode()


def test_the_uuid_of_a_report_someone_else_sent_is_not_theirs_to_read(as_reporter, nrc):
    data = report()
    assert send(as_reporter, data).status_code == 201
    stranger = signed_in(make_user("sam", nrc, roles=(Role.REPORTER,)))
    response = send(stranger, data)
    assert response.status_code == 409
    assert "reference" not in response.json()
    assert Incident.objects.count() == 1


def test_the_endpoint_enforces_the_csrf_token(reporter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reporter)
    assert send(client, report()).status_code == 403
    wrong = send(client, report(), HTTP_X_CSRFTOKEN="x" * 64)
    assert wrong.status_code == 403
    assert not Incident.objects.exists()

    fresh = client.get(TOKEN)
    assert fresh.json()["user"] == "rita"
    made = send(client, report(), HTTP_X_CSRFTOKEN=fresh.json()["csrf"])
    assert made.status_code == 201
    assert Incident.objects.count() == 1


def test_signed_out_phones_get_401_not_a_sign_in_page(client, reporter):
    for response in (client.get(TOKEN), send(client, report())):
        assert response.status_code == 401
        assert response.json()["login"] == f"{reverse('login')}?next={QUICK}"
    assert not Incident.objects.exists()
    assert client.get(QUICK).status_code == 302  # the page itself asks to sign in


def test_the_token_is_never_cached(as_reporter):
    assert "no-cache" in as_reporter.get(TOKEN)["Cache-Control"]
    assert as_reporter.post(TOKEN).status_code == 405
    assert as_reporter.get(SEND).status_code == 405


# ----------------------------------------------------------------------------------- the page


def test_the_quick_page_has_the_essentials_and_no_inline_script(as_reporter):
    response = as_reporter.get(QUICK)
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("date", "country", "admin1", "place", "category", "subcategory", "narrative"):
        assert f'name="{name}"' in html
    for name in ("killed", "injured", "abducted", "detained", "marking"):
        assert f'name="{name}"' in html
    assert 'name="organisation"' not in html  # one organisation: nothing to choose
    assert '<option value="AMBER" selected>' in html
    assert f'data-worker="{WORKER}"' in html and 'src="/static/salama/quick.js"' in html
    # The only <script> without src is the JSON block of texts, which the CSP allows.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' id="quick-texts" type="application/json"']
    texts = json.loads(re.search(r'id="quick-texts"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert texts["saved"] == "Saved on this phone; it will be sent when you are back online."
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_quick_page_speaks_the_users_language(as_reporter):
    as_reporter.cookies["django_language"] = "fr"
    html = as_reporter.get(QUICK, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="fr"' in html


def test_the_quick_page_is_right_to_left_in_arabic(as_reporter):
    html = as_reporter.get(QUICK, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in html


def test_without_javascript_the_form_posts_and_makes_the_draft(as_reporter, reporter):
    page = as_reporter.get(QUICK)
    key = page.context["uuid"]
    data = {k: ("on" if v is True else v) for k, v in report(uuid=str(key)).items()}
    data["marking"] = "GREEN"
    response = as_reporter.post(QUICK, data)
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:detail", args=[incident.reference])
    assert incident.status == c.Status.DRAFT and incident.marking == "GREEN"
    # The browser's back button and a second press: still one incident.
    assert as_reporter.post(QUICK, data).status_code == 302
    assert Incident.objects.count() == 1


def test_without_javascript_errors_are_shown_next_to_the_fields(as_reporter):
    response = as_reporter.post(QUICK, {**report(country="XX"), "vehicles_hit": "on"})
    assert response.status_code == 400
    assert 'id="id_country_error"' in response.content.decode()
    assert not Incident.objects.exists()


def test_the_report_page_and_the_menu_lead_to_the_quick_report(as_reporter):
    link = f'href="{QUICK}"'
    assert link in as_reporter.get(reverse("incidents:report")).content.decode()
    assert link in as_reporter.get(reverse("incidents:list")).content.decode()


def test_the_service_worker_is_served_under_the_quick_page(client):
    response = client.get(WORKER)  # no sign-in needed: it holds nothing private
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == QUICK
    assert b'addEventListener("fetch"' in response.content


# --------------------------------------------------------------------------------- the browser


def _wait(page, expression, timeout_s=15):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return
        time.sleep(0.2)
    state = page.evaluate(
        "async () => [(await (await caches.open('salama-quick-v1')).keys()).map(r => r.url),"
        " !!navigator.serviceWorker.controller,"
        " (await navigator.serviceWorker.getRegistration())?.active?.state]"
    )
    raise AssertionError(f"still false after {timeout_s} s: {expression} ({state})")


STORED_PAGE = (
    "async () => { const c = await caches.open('salama-quick-v1');"
    " const r = await navigator.serviceWorker.getRegistration();"
    " return !!(await c.match(location.pathname)) && r?.active?.state === 'activated'; }"
)

STORED_GONE = (
    "async () => !(await (await caches.open('salama-quick-v1')).match('/incidents/quick/'))"
)


def _fill(page, **values):
    page.fill("#id_date", values.get("date", "2024-03-14"))
    page.select_option("#id_country", "SS")
    page.fill("#id_place", "Juba")
    page.select_option("#id_subcategory", "crime")  # sets the category (incidents.js)
    page.fill("#id_narrative", values.get("narrative", "Gunmen stopped a marked vehicle."))
    page.fill("#id_killed", "1")
    page.fill("#id_injured", "2")


def _rita_on_the_quick_page(chromium, live_server):
    """Rita signed in on a phone, on the quick report page."""
    rita = Phone(chromium, live_server.url)
    rita.sign_in("rita")
    rita.page.goto(QUICK)
    return rita, rita.page


@pytest.mark.browser
def test_a_report_made_offline_waits_on_the_phone_and_is_sent_when_back_online(
    browser,  # noqa: F811 (the fixture imported above)
    live_server,
    reporter,
    undp,
):
    assert live_server.url.startswith("http://localhost:")  # a secure context for workers
    rita, page = _rita_on_the_quick_page(browser, live_server)
    assert page.evaluate("window.isSecureContext")
    # The worker is active and the page is stored.
    _wait(page, STORED_PAGE)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll

    rita.context.set_offline(True)
    _fill(page)
    page.get_by_role("button", name="Save the report").click()
    page.get_by_text("Saved on this phone; it will be sent when you are back online.").wait_for()
    page.get_by_text("Reports waiting on this phone: 1").wait_for()
    assert not Incident.objects.exists()

    # Reloaded without a connection, the page comes from the service worker, report and all.
    response = page.reload()
    assert response.from_service_worker
    page.get_by_role("heading", name="Quick report").wait_for()
    page.get_by_text("Reports waiting on this phone: 1").wait_for()
    assert page.input_value("#id_date") == datetime.date.today().isoformat()

    rita.context.set_offline(False)
    page.get_by_text("Sent: draft").wait_for()
    incident = Incident.objects.get()
    assert page.get_by_role("link", name=incident.reference).is_visible()
    assert incident.status == c.Status.DRAFT and incident.reported_by == reporter
    assert sorted(incident.persons.values_list("impact", "count")) == [
        ("injured", 2),
        ("killed", 1),
    ]
    assert page.evaluate("localStorage.getItem('salama.quick.reports.v1')") == "[]"
    assert rita.errors == []
    rita.context.close()


@pytest.mark.browser
def test_a_refused_report_stays_on_the_phone_with_its_errors_until_corrected(
    browser,  # noqa: F811 (the fixture imported above)
    live_server,
    reporter,
    undp,
):
    rita, page = _rita_on_the_quick_page(browser, live_server)
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    _fill(page, date=future)
    page.get_by_role("button", name="Save the report").click()

    item = page.locator(".quick-report.has-error")
    item.get_by_text(f"Date: The date {future} is in the future.").wait_for()
    assert item.get_by_role("link", name="Report it in the full form instead").get_attribute(
        "href"
    ) == reverse("incidents:report")
    page.get_by_text("Reports waiting on this phone: 1").wait_for()
    assert not Incident.objects.exists()

    # Reloading keeps it; correcting it sends it.
    page.reload()
    item.get_by_role("button", name="Correct it").click()
    assert page.input_value("#id_narrative") == "Gunmen stopped a marked vehicle."
    page.fill("#id_date", "2024-03-14")
    page.get_by_role("button", name="Save the report").click()
    page.get_by_text("Sent: draft").wait_for()
    assert Incident.objects.get().date == datetime.date(2024, 3, 14)
    assert page.locator(".quick-report").count() == 0
    rita.context.close()


@pytest.mark.browser
def test_a_phone_signed_out_meanwhile_keeps_its_reports_and_asks_to_sign_in(
    browser,  # noqa: F811 (the fixture imported above)
    live_server,
    reporter,
    undp,
):
    rita, page = _rita_on_the_quick_page(browser, live_server)
    _wait(page, STORED_PAGE)
    rita.context.set_offline(True)
    _fill(page)
    page.get_by_role("button", name="Save the report").click()
    page.get_by_text("Reports waiting on this phone: 1").wait_for()

    rita.context.clear_cookies()  # the session ended while the phone was offline
    rita.context.set_offline(False)
    page.get_by_role("link", name="Sign in").wait_for()
    page.get_by_text("You are signed out.").wait_for()
    page.get_by_text("Reports waiting on this phone: 1").wait_for()
    assert not Incident.objects.exists()

    # Opening the page signed out leads to the sign-in page, and the stored page (with
    # Rita's name and organisations) is no longer kept for whoever uses the phone next.
    page.goto(QUICK)
    page.wait_for_url(re.compile(r"/accounts/login/"))
    _wait(page, STORED_GONE)

    rita.sign_in("rita")
    page.goto(QUICK)
    page.get_by_text("Sent: draft").wait_for()
    assert Incident.objects.count() == 1
    rita.context.close()


@pytest.mark.browser
def test_signing_out_forgets_the_stored_page(
    browser,  # noqa: F811 (the fixture imported above)
    live_server,
    reporter,
    undp,
):
    """The stored quick page carries the user's name and organisations: the sign-in page
    drops it (signed-out.js), so the next person offline on this phone does not see them."""
    rita, page = _rita_on_the_quick_page(browser, live_server)
    _wait(page, STORED_PAGE)
    page.goto(live_server.url + "/incidents/")
    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    _wait(page, STORED_GONE)
    assert rita.errors == []
    rita.context.close()


@pytest.mark.browser
def test_the_quick_page_fits_a_phone_in_arabic_right_to_left(
    browser,  # noqa: F811 (the fixture imported above)
    live_server,
    reporter,
    undp,
):
    rita = Phone(browser, live_server.url)
    rita.sign_in("rita")
    rita.context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    page = rita.page
    page.goto(QUICK)
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    form = page.locator("[data-quick-form]").bounding_box()
    assert form["x"] >= 0 and form["x"] + form["width"] <= 390
    page.screenshot(path="/tmp/salama-quick-ar.png", full_page=True)
    assert rita.errors == []
    rita.context.close()
