"""The list's Export control, the export page and the download (real HTTP, Django's client)."""

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.urls import reverse

from salama.conftest import make_incident
from salama.core.markings import TLP
from salama.core.models import AuditEntry
from salama.interchange.tests.export_readers import read_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def incidents(reporter, undp):
    make_incident(reporter, undp, country="SS", place="Juba")
    make_incident(reporter, undp, country="AF", place="Herat", latitude=34.35, longitude=62.2)
    make_incident(reporter, undp, country="SS", place="Yei", marking=TLP.AMBER)


@pytest.fixture
def signed_in(client, reporter):
    client.force_login(reporter)
    return client


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_the_list_has_an_export_control_that_sends_its_filters(signed_in):
    page = signed_in.get(reverse("incidents:list"), {"country": "SS"}).content.decode()
    assert f'formaction="{reverse("interchange:export")}"' in page


def test_the_export_page_names_the_filters_and_keeps_them(signed_in, incidents):
    response = signed_in.get(reverse("interchange:export"), {"country": "SS", "page": "3"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "South Sudan" in page
    assert '<input type="hidden" name="country" value="SS">' in page
    assert 'name="page"' not in page
    assert 'value="parquet"' in page and 'value="sind"' in page


def test_an_htmx_request_is_sent_to_the_whole_page(signed_in):
    response = signed_in.get(
        reverse("interchange:export"), {"country": "SS"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("interchange:export") + "?country=SS"


def test_the_csv_download_streams_the_list_as_filtered_and_is_audited(
    signed_in, incidents, reporter
):
    response = signed_in.post(
        reverse("interchange:export_download"),
        {"country": "SS", "format": "csv", "scheme": "native", "page": "2"},
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="salama-incidents-native-'
    )
    assert response["Cache-Control"] == "no-store"
    rows = read_rows("csv", _body(response))
    assert sorted(r["place"] for r in rows) == ["Juba", "Yei"]
    start, end = AuditEntry.objects.filter(action__startswith="export").order_by("seq")
    assert start.actor == reporter
    assert start.after["filters"] == {"country": "SS"}
    assert (end.after["rows"], end.after["completed"]) == (2, True)


def test_a_cancelled_download_is_audited_as_incomplete(signed_in, incidents):
    response = signed_in.post(
        reverse("interchange:export_download"), {"format": "geojson", "scheme": "native"}
    )
    # The browser went away before the first byte: the server closes the response. (As
    # Django's test client does, keep the test database connection open meanwhile.)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    end = AuditEntry.objects.filter(action="export.end").get()
    assert end.after["completed"] is False


@pytest.mark.parametrize("format_name", ["xlsx", "parquet"])
def test_binary_formats_are_built_then_sent(signed_in, incidents, format_name):
    response = signed_in.post(
        reverse("interchange:export_download"),
        {"format": format_name, "scheme": "awsd", "q": "Herat"},
    )
    assert response.status_code == 200
    rows = read_rows(format_name, _body(response))
    assert [r["City"] for r in rows] == ["Herat"]
    assert response["Content-Disposition"].endswith(f'.{format_name}"')


def test_the_download_goes_through_the_door(client, outsider, incidents):
    client.force_login(outsider)
    response = client.post(
        reverse("interchange:export_download"), {"format": "hxl", "scheme": "sind"}
    )
    assert read_rows("hxl", _body(response)) == []  # UNDP's drafts are UNDP's


def test_a_bad_choice_shows_the_page_again_with_the_reason(signed_in):
    response = signed_in.post(
        reverse("interchange:export_download"), {"format": "pdf", "scheme": "native"}
    )
    assert response.status_code == 400
    assert "Unknown export format" in response.content.decode()
    assert not AuditEntry.objects.filter(action__startswith="export").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (
        client.get(reverse("interchange:export")),
        client.post(reverse("interchange:export_download"), {"format": "csv"}),
    ):
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_downloads_are_posts(signed_in):
    response = signed_in.get(reverse("interchange:export_download"), {"format": "csv"})
    assert response.status_code == 405
