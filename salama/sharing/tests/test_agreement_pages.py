"""The sharing agreements pages: proposing, answering and ending agreements (with their
e-mails), and what an agreement in force shows on "Shared with us" — figures with small cells
suppressed, redacted records, or a link to the full records."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse

from salama.conftest import make_incident, make_organisation, make_user
from salama.core.models import AuditEntry
from salama.incidents import choices as c
from salama.incidents.models import Incident
from salama.incidents.tests.test_browser import Phone, browser  # noqa: F401 (fixture)
from salama.organisations.choices import OrganisationType, Role
from salama.sharing import agreements, notices, views
from salama.sharing.models import Agreement

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def ada(undp):
    """An organisation admin of UNDP, the provider."""
    return _admin("ada", undp)


@pytest.fixture
def nils(nrc):
    """An organisation admin of NRC, the recipient."""
    return _admin("nils", nrc)


@pytest.fixture
def nora(nrc):
    """A second admin of NRC."""
    return _admin("nora", nrc)


@pytest.fixture
def wfp_admin(db):
    """An admin of an organisation outside the agreement."""
    return _admin("wanda", make_organisation("WFP", OrganisationType.UN_AFP))


def _admin(username, organisation):
    user = make_user(username, organisation, roles=(Role.ORG_ADMIN,))
    user.email = f"{username}@example.org"
    user.save(update_fields=["email"])
    return user


def _incident(user, organisation, *, marking="AMBER", status=c.Status.SUBMITTED, **fields):
    incident = make_incident(user, organisation, marking=marking, **fields)
    Incident.objects.filter(pk=incident.pk).update(status=status)
    incident.refresh_from_db()
    return incident


@pytest.fixture
def shared_incidents(reporter, undp):
    """Six TLP:AMBER incidents of UNDP in South Sudan in 2024 (one person injured in each) and
    one in Sudan: the Sudan cells are below the threshold."""
    south_sudan = [
        _incident(reporter, undp, date=datetime.date(2024, 3, day), place=f"Juba-{day}")
        for day in range(1, 7)
    ]
    sudan = _incident(
        reporter,
        undp,
        country="SD",
        admin1="Khartoum",
        place="Omdurman",
        latitude=15.6,
        longitude=32.5,
        date=datetime.date(2024, 5, 2),
    )
    return south_sudan, sudan


def _propose(client, provider, recipient, **overrides):
    data = {
        "provider": provider.pk,
        "recipient": recipient.pk,
        "level": "redacted",
        "countries": "",
        "starts_on": TODAY.isoformat(),
        "ends_on": "",
        "purpose": "Joint security analysis for South Sudan.",
    }
    data.update(overrides)
    return client.post(reverse("sharing:agreement_propose"), data)


def _in_force(provider, recipient, by_provider, by_recipient, **terms):
    terms.setdefault("level", Agreement.Level.REDACTED)
    terms.setdefault("purpose", "Joint analysis")
    agreement = agreements.propose(provider, recipient, by=by_provider, **terms)
    return agreements.accept(agreement, by=by_recipient)


# ------------------------------------------------------------------------- the workflow


def test_propose_accept_share_and_end(
    client, ada, nils, nora, outsider, undp, nrc, shared_incidents
):
    client.force_login(ada)
    page = client.get(reverse("sharing:agreements"))
    assert page.status_code == 200 and "Propose an agreement" in page.text

    made = _propose(client, undp, nrc, countries="ss, SD")
    assert made.status_code == 302
    agreement = Agreement.objects.get()
    assert agreement.state() == Agreement.State.PROPOSED
    assert agreement.countries == ["SD", "SS"] and agreement.proposed_by == ada
    # The recipient's admins are told; the proposer is not.
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["nils@example.org", "nora@example.org"]
    assert "UNDP" in mail.outbox[0].subject and "South Sudan" in mail.outbox[0].body
    assert reverse("sharing:agreements") in mail.outbox[0].body
    listed = client.get(reverse("sharing:agreements"), follow=True)
    assert "Agreement proposed to NRC" in listed.text
    assert _section(listed.text, "Proposed by you").count("UNDP → NRC") == 1

    # Not in force: the recipient sees nothing yet.
    client.force_login(outsider)
    assert client.get(reverse("sharing:shared_detail", args=[agreement.pk])).status_code == 404
    assert "Shared with us" not in client.get(reverse("incidents:list")).text

    client.force_login(nils)
    waiting = client.get(reverse("sharing:agreements"))
    assert "UNDP → NRC" in _section(waiting.text, "Awaiting your answer")
    assert reverse("sharing:agreement_accept", args=[agreement.pk]) in waiting.text
    mail.outbox.clear()
    accepted = client.post(reverse("sharing:agreement_accept", args=[agreement.pk]), follow=True)
    assert "You accepted the agreement with UNDP." in accepted.text
    agreement.refresh_from_db()
    assert agreement.state() == Agreement.State.IN_FORCE and agreement.accepted_by == nils
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert "accepted" in mail.outbox[0].subject
    assert "UNDP → NRC" in _section(accepted.text, "In force or scheduled")

    # Any member of the recipient now sees the agreement and its figures.
    client.force_login(outsider)
    assert reverse("sharing:shared") in client.get(reverse("incidents:list")).text
    shared = client.get(reverse("sharing:shared"))
    assert reverse("sharing:shared_detail", args=[agreement.pk]) in shared.text
    detail = client.get(reverse("sharing:shared_detail", args=[agreement.pk]))
    assert detail.status_code == 200
    rows = _figure_rows(detail.text)
    # South Sudan: six incidents, six people injured; Sudan: one of each, suppressed.
    assert rows["South Sudan"][:4] == ["2024", "6", "0", "6"]
    assert rows["Sudan"][:4] == ["2024", "fewer than 5", "0", "fewer than 5"]
    assert "separate counts" in detail.text
    table = client.get(reverse("sharing:shared_figures_csv", args=[agreement.pk]))
    assert table["Content-Type"].startswith("text/csv")
    lines = b"".join(table.streaming_content if table.streaming else [table.content])
    lines = lines.decode().splitlines()
    assert lines[0].startswith("country,country_name,year,incidents,killed,injured")
    assert lines[1:] == ["SD,Sudan,2024,<5,0,<5,0,0,0,0", "SS,South Sudan,2024,6,0,6,0,0,0,0"]
    seen = AuditEntry.objects.filter(object_type="sharing.agreement", object_id=str(agreement.pk))
    assert {"sharing:view", "sharing:figures"} <= set(seen.values_list("action", flat=True))

    # The provider's admin ends it, after a confirmation page.
    client.force_login(ada)
    confirm = client.get(reverse("sharing:agreement_end", args=[agreement.pk]))
    assert confirm.status_code == 200 and "End it now" in confirm.text
    assert Agreement.objects.get().ended_at is None
    refused = client.post(reverse("sharing:agreement_end", args=[agreement.pk]), {"reason": ""})
    assert refused.status_code == 400 and Agreement.objects.get().ended_at is None
    mail.outbox.clear()
    ended = client.post(
        reverse("sharing:agreement_end", args=[agreement.pk]),
        {"reason": "The joint analysis is finished."},
        follow=True,
    )
    assert "has ended" in ended.text
    assert "UNDP → NRC" in _section(ended.text, "Ended, declined or expired")
    agreement.refresh_from_db()
    assert agreement.state() == Agreement.State.ENDED
    assert agreement.end_reason == "The joint analysis is finished."
    assert [sorted(m.to) for m in mail.outbox] == [["nils@example.org", "nora@example.org"]]
    assert "The joint analysis is finished." in mail.outbox[0].body

    # Gone for the recipient.
    client.force_login(outsider)
    assert client.get(reverse("sharing:shared_detail", args=[agreement.pk])).status_code == 404
    assert client.get(reverse("sharing:shared_figures_csv", args=[agreement.pk])).status_code == 404
    assert "No agreement shares data" in client.get(reverse("sharing:shared")).text
    assert reverse("sharing:shared") not in client.get(reverse("incidents:list")).text

    actions = list(
        AuditEntry.objects.filter(action__startswith="agreement:").values_list("action", flat=True)
    )
    assert actions == ["agreement:propose", "agreement:accept", "agreement:end"]


def test_the_recipient_declines_with_a_reason_and_the_provider_is_told(
    client, ada, nils, undp, nrc
):
    agreement = agreements.propose(undp, nrc, level="aggregate", purpose="Figures", by=ada)
    client.force_login(nils)
    answer = client.post(
        reverse("sharing:agreement_decline", args=[agreement.pk]),
        {"reason": "We have no need to know."},
        follow=True,
    )
    assert "You declined the agreement with UNDP." in answer.text
    agreement.refresh_from_db()
    assert agreement.state() == Agreement.State.DECLINED
    assert agreement.end_reason == "We have no need to know."
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert "declined" in mail.outbox[0].subject
    assert "Declined by nils" in _section(answer.text, "Ended, declined or expired")
    # A declined agreement cannot be accepted afterwards: the error is shown.
    again = client.post(reverse("sharing:agreement_accept", args=[agreement.pk]), follow=True)
    assert "This agreement can no longer change this way: it is “Declined”." in again.text
    agreement.refresh_from_db()
    assert agreement.accepted_at is None


def test_the_provider_withdraws_a_proposal(client, ada, nils, undp, nrc):
    agreement = agreements.propose(undp, nrc, level="aggregate", purpose="Figures", by=ada)
    client.force_login(ada)
    page = client.get(reverse("sharing:agreements"))
    assert reverse("sharing:agreement_end", args=[agreement.pk]) in page.text
    assert reverse("sharing:agreement_accept", args=[agreement.pk]) not in page.text
    confirm = client.get(reverse("sharing:agreement_end", args=[agreement.pk]))
    assert "Withdraw the proposal" in confirm.text
    client.post(reverse("sharing:agreement_end", args=[agreement.pk]), {"reason": "Too early"})
    agreement.refresh_from_db()
    assert agreement.state() == Agreement.State.ENDED and agreement.accepted_at is None


def test_a_scheduled_agreement_is_listed_but_shares_nothing_yet(
    client, ada, nils, outsider, undp, nrc, shared_incidents
):
    agreement = _in_force(undp, nrc, ada, nils, starts_on=TODAY + datetime.timedelta(days=10))
    assert agreement.state() == Agreement.State.SCHEDULED
    client.force_login(nils)
    page = client.get(reverse("sharing:agreements"))
    assert "Accepted, not yet in force" in _section(page.text, "In force or scheduled")
    client.force_login(outsider)
    assert client.get(reverse("sharing:shared_detail", args=[agreement.pk])).status_code == 404


def test_a_mail_server_that_fails_does_not_undo_the_proposal(
    client, ada, nils, undp, nrc, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no SMTP server")

    monkeypatch.setattr(notices, "send_mail", refuse)
    client.force_login(ada)
    answer = client.post(
        reverse("sharing:agreement_propose"),
        {
            "provider": undp.pk,
            "recipient": nrc.pk,
            "level": "aggregate",
            "starts_on": TODAY.isoformat(),
            "purpose": "Figures",
        },
        follow=True,
    )
    assert "Agreement proposed to NRC" in answer.text
    assert "could not be sent: please tell them" in answer.text
    assert Agreement.objects.get().state() == Agreement.State.PROPOSED


# -------------------------------------------------------------------------- the propose form


def test_the_propose_form_shows_the_agreements_own_errors(client, ada, undp, nrc):
    client.force_login(ada)
    bad_country = _propose(client, undp, nrc, countries="SS QQ")
    assert bad_country.status_code == 400
    assert "Unknown country codes: QQ" in bad_country.text
    no_purpose = _propose(client, undp, nrc, purpose=" ")
    assert no_purpose.status_code == 400 and "This field is required." in no_purpose.text
    backwards = _propose(client, undp, nrc, starts_on="2025-05-01", ends_on="2025-04-01")
    assert backwards.status_code == 400
    assert "The agreement cannot end before it starts." in backwards.text
    itself = _propose(client, undp, undp)
    assert itself.status_code == 400
    # Only an organisation the user administers can be the provider.
    not_mine = _propose(client, nrc, undp)
    assert not_mine.status_code == 400
    assert not Agreement.objects.exists() and not mail.outbox


def test_narratives_are_kept_only_for_records(client, ada, undp, nrc):
    client.force_login(ada)
    _propose(client, undp, nrc, level="aggregate", narratives="on")
    _propose(client, undp, nrc, level="redacted", narratives="on")
    levels = dict(Agreement.objects.values_list("level", "narratives"))
    assert levels == {"aggregate": False, "redacted": True}


# ---------------------------------------------------------------------------- permissions


def test_only_organisation_admins_use_the_agreements_page(
    client, reporter, outsider, ada, undp, nrc
):
    agreement = agreements.propose(undp, nrc, level="aggregate", purpose="Figures", by=ada)
    for user in (reporter, outsider):
        client.force_login(user)
        page = client.get(reverse("sharing:agreements"))
        assert page.status_code == 403
        assert "Only an organisation admin" in page.text
        assert _propose(client, undp, nrc).status_code == 403
        accept = reverse("sharing:agreement_accept", args=[agreement.pk])
        assert client.post(accept).status_code == 403
        assert client.get(reverse("sharing:agreement_end", args=[agreement.pk])).status_code == 403
    agreement.refresh_from_db()
    assert agreement.state() == Agreement.State.PROPOSED
    assert Agreement.objects.count() == 1


def test_the_provider_admin_cannot_accept_its_own_proposal(client, ada, undp, nrc):
    agreement = agreements.propose(undp, nrc, level="aggregate", purpose="Figures", by=ada)
    client.force_login(ada)
    answer = client.post(reverse("sharing:agreement_accept", args=[agreement.pk]), follow=True)
    assert "Only an organisation admin of NRC may accept it." in answer.text
    agreement.refresh_from_db()
    assert agreement.accepted_at is None and not mail.outbox


def test_an_outsider_organisation_sees_nothing(
    client, ada, nils, wfp_admin, undp, nrc, shared_incidents
):
    agreement = _in_force(undp, nrc, ada, nils)
    client.force_login(wfp_admin)
    page = client.get(reverse("sharing:agreements"))
    assert page.status_code == 200 and "UNDP → NRC" not in page.text
    assert client.post(reverse("sharing:agreement_accept", args=[agreement.pk])).status_code == 404
    assert client.get(reverse("sharing:agreement_end", args=[agreement.pk])).status_code == 404
    assert client.get(reverse("sharing:shared_detail", args=[agreement.pk])).status_code == 404
    assert client.get(reverse("sharing:shared_figures_csv", args=[agreement.pk])).status_code == 404
    reference = shared_incidents[0][0].reference
    record = reverse("sharing:shared_record", args=[agreement.pk, reference])
    assert client.get(record).status_code == 404
    assert "No agreement shares data" in client.get(reverse("sharing:shared")).text
    # The provider's own members do not "receive" it either.
    client.force_login(ada)
    assert client.get(reverse("sharing:shared_detail", args=[agreement.pk])).status_code == 404
    agreement.refresh_from_db()
    assert agreement.ended_at is None


def test_someone_without_an_organisation_is_refused(client, db):
    client.force_login(make_user("nobody", roles=()))
    assert client.get(reverse("sharing:shared")).status_code == 403
    assert client.get(reverse("sharing:agreements")).status_code == 403


# -------------------------------------------------------------------------- what is shared


def test_a_redacted_record_shows_the_month_and_nothing_withheld(
    client, ada, nils, outsider, reporter, undp, nrc
):
    incident = _incident(
        reporter,
        undp,
        date=datetime.date(2024, 3, 14),
        place="Gudele junction",
        admin2="Juba County",
        latitude=4.8612,
        longitude=31.5471,
        perpetrator_name="The Cobra Brigade",
        narrative="A driver named Kenyi was stopped at the quokka checkpoint.",
        persons=[
            {
                "impact": c.Impact.INJURED,
                "cause": c.Cause.VIOLENCE,
                "count": 2,
                "recruitment": c.Recruitment.NATIONAL,
                "gender": c.Gender.FEMALE,
            },
            {
                "impact": c.Impact.SEXUAL_ASSAULT,
                "cause": c.Cause.VIOLENCE,
                "recruitment": c.Recruitment.NATIONAL,
                "gender": c.Gender.FEMALE,
            },
        ],
    )
    agreement = _in_force(undp, nrc, ada, nils, countries=["SS"])
    client.force_login(outsider)

    listing = client.get(reverse("sharing:shared_detail", args=[agreement.pk]))
    link = reverse("sharing:shared_record", args=[agreement.pk, incident.reference])
    assert link in listing.text and "2024-03" in listing.text
    page = client.get(link)
    assert page.status_code == 200
    text = page.text
    assert "2024-03" in text and "2024-03-14" not in text and "14 March" not in text
    assert "Central Equatoria" in text and "South Sudan" in text
    assert str(c.SubCategory.CRIME.label) in text and str(c.MeansOfAttack.SHOOTING.label) in text
    for withheld in (
        "Gudele",
        "Juba County",
        "4.86",
        "31.54",
        "Cobra",
        "Kenyi",
        "quokka",
        str(c.Impact.SEXUAL_ASSAULT.label),
        str(c.Gender.FEMALE.label),
        str(c.LocationType.ROAD.label),
    ):
        assert withheld not in text, withheld
    assert "The narrative is not shared under this agreement." in text
    assert _people_rows(text) == [["2", str(c.Impact.INJURED.label)]]

    # Each view is in the audit log with the references shown.
    views_logged = AuditEntry.objects.filter(action="sharing:view", actor=outsider)
    assert views_logged.count() == 2
    assert all(incident.reference in e.after["references"] for e in views_logged)


def test_narratives_appear_only_when_the_agreement_shares_them(
    client, ada, nils, outsider, reporter, undp, nrc
):
    incident = _incident(reporter, undp, narrative="A quokka-white vehicle was hit.")
    agreement = _in_force(undp, nrc, ada, nils, narratives=True)
    client.force_login(outsider)
    page = client.get(reverse("sharing:shared_record", args=[agreement.pk, incident.reference]))
    assert "A quokka-white vehicle was hit." in page.text
    assert "Juba" not in page.text


@pytest.mark.parametrize(
    ("marking", "status"),
    [
        ("AMBER+STRICT", c.Status.SUBMITTED),
        ("RED", c.Status.ENDORSED),
        ("AMBER", c.Status.DRAFT),
    ],
)
def test_strict_red_and_draft_incidents_never_appear(
    client, ada, nils, outsider, reporter, undp, nrc, marking, status
):
    hidden = _incident(
        reporter,
        undp,
        marking=marking,
        status=status,
        country="CD",
        admin1="North Kivu",
        place="Goma",
        latitude=-1.68,
        longitude=29.22,
    )
    shown = _incident(reporter, undp)
    agreement = _in_force(undp, nrc, ada, nils)
    client.force_login(outsider)
    page = client.get(reverse("sharing:shared_detail", args=[agreement.pk]))
    assert shown.reference in page.text
    assert hidden.reference not in page.text
    assert "Congo" not in page.text and "North Kivu" not in page.text  # not even a count
    assert set(_figure_rows(page.text)) == {"South Sudan"}
    record = reverse("sharing:shared_record", args=[agreement.pk, hidden.reference])
    assert client.get(record).status_code == 404
    csv_text = client.get(reverse("sharing:shared_figures_csv", args=[agreement.pk])).content
    assert b"CD" not in csv_text


def test_redacted_records_are_filtered_and_paged_newest_first(
    client, ada, nils, outsider, reporter, undp, nrc, monkeypatch
):
    monkeypatch.setattr(views, "RECORDS_PER_PAGE", 2)
    made = [
        _incident(reporter, undp, date=datetime.date(2023, 6, 1)),
        _incident(reporter, undp, date=datetime.date(2024, 1, 5)),
        _incident(reporter, undp, date=datetime.date(2024, 2, 5)),
        _incident(
            reporter,
            undp,
            date=datetime.date(2024, 4, 5),
            country="SD",
            admin1="Khartoum",
            place="Omdurman",
            latitude=15.6,
            longitude=32.5,
        ),
    ]
    agreement = _in_force(undp, nrc, ada, nils)
    url = reverse("sharing:shared_detail", args=[agreement.pk])
    client.force_login(outsider)
    first = client.get(url)
    assert _references(first.text) == [made[3].reference, made[2].reference]
    assert "Page 1 of 2" in first.text
    second = client.get(url, {"page": 2})
    assert _references(second.text) == [made[1].reference, made[0].reference]
    south_sudan_2024 = client.get(url, {"country": "SS", "year": "2024"})
    assert _references(south_sudan_2024.text) == [made[2].reference, made[1].reference]
    assert "Page 1 of" not in south_sudan_2024.text


def test_an_aggregate_agreement_shows_figures_only(
    client, ada, nils, outsider, undp, nrc, shared_incidents
):
    agreement = _in_force(undp, nrc, ada, nils, level=Agreement.Level.AGGREGATE)
    client.force_login(outsider)
    page = client.get(reverse("sharing:shared_detail", args=[agreement.pk]))
    assert "This agreement shares figures only." in page.text
    assert shared_incidents[1].reference not in page.text
    reference = shared_incidents[1].reference
    record = reverse("sharing:shared_record", args=[agreement.pk, reference])
    assert client.get(record).status_code == 404
    # The figures page is in the audit log, without references: no record was shown.
    (viewed,) = AuditEntry.objects.filter(action="sharing:view")
    assert viewed.after == {"level": "aggregate"}


def test_a_full_agreement_points_to_the_incident_list(
    client, ada, nils, outsider, reporter, undp, nrc
):
    amber = _incident(reporter, undp, place="Quokka Hill")
    agreement = _in_force(undp, nrc, ada, nils, level=Agreement.Level.FULL, countries=["SS"])
    client.force_login(outsider)
    page = client.get(reverse("sharing:shared_detail", args=[agreement.pk]))
    link = re.search(r'href="(/incidents/\?[^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert f"organisation={undp.pk}" in link and "country=SS" in link
    listed = client.get(link)
    assert amber.reference in listed.text


# -------------------------------------------------------------------------------- helpers


def _section(html: str, heading: str) -> str:
    """The text of the section under the h2 that starts with ``heading``."""
    start = html.index(f">{heading}")
    end = html.find("<h2", start)
    return html[start : end if end != -1 else None]


def _cells(row: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    ]


def _figure_rows(html: str) -> dict[str, list[str]]:
    table = re.search(r'<table class="figures">(.*?)</table>', html, re.S).group(1)
    body = table.split("<tbody>")[1]
    rows = [_cells(row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return {cells[0]: cells[1:] for cells in rows}


def _people_rows(html: str) -> list[list[str]]:
    section = html[html.index('id="h-who"') :]
    body = section.split("<tbody>")[1].split("</tbody>")[0]
    return [_cells(row)[:2] for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _references(html: str) -> list[str]:
    return re.findall(r'<td><a href="/sharing/shared/\d+/([^/]+)/">', html)


# ---------------------------------------------------------------------------- in a browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_an_agreement_is_proposed_accepted_and_seen(
    browser,  # noqa: F811
    live_server,
    undp,
    nrc,
    reporter,
    outsider,
):
    ada, nils = _admin("ada", undp), _admin("nils", nrc)
    for day in range(1, 7):
        _incident(reporter, undp, date=datetime.date(2024, 3, day))

    provider = Phone(browser, live_server.url)
    provider.sign_in("ada")
    page = provider.page
    page.goto("/registry/focal-points/")
    page.get_by_role("link", name="Sharing agreements").click()
    page.get_by_role("heading", name="Sharing agreements", level=1).wait_for()
    page.select_option("#id_recipient", label="NRC")
    page.get_by_label("Redacted records").check()
    page.fill("#id_countries", "SS")
    page.fill("#id_purpose", "Joint security analysis in South Sudan")
    page.get_by_role("button", name="Propose").click()
    page.get_by_text("Agreement proposed to NRC").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert Agreement.objects.get().proposed_by == ada
    assert [m.to for m in mail.outbox] == [["nils@example.org"]]

    recipient = Phone(browser, live_server.url)
    recipient.sign_in("nils")
    page = recipient.page
    page.goto("/sharing/agreements/")
    page.get_by_role("button", name="Accept").click()
    page.get_by_text("You accepted the agreement with UNDP.").wait_for()
    assert Agreement.objects.get().accepted_by == nils

    # The menu now has "Shared with us"; the shared page shows the figures and the records.
    page.goto("/incidents/")
    page.get_by_role("link", name="Shared with us").click()
    page.get_by_role("link", name="UNDP shares with NRC").click()
    page.get_by_role("heading", name="Figures").wait_for()
    row = page.locator("table.figures tbody tr").first
    assert row.locator("th").inner_text() == "South Sudan"
    assert row.locator("td").nth(1).inner_text() == "6"  # incidents
    page.locator("table.incidents a").first.click()
    page.get_by_role("heading", name="Who was affected").wait_for()
    assert "2024-03" in page.locator("main").inner_text()
    assert "2024-03-0" not in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert provider.errors == [] and recipient.errors == []


def test_security_risk_assessments_are_shared_only_with_full_records(client, ada, nils, undp, nrc):
    client.force_login(ada)
    form = client.get(reverse("sharing:agreements")).text
    assert "Also share security risk assessments" in form
    assert 'name="assessments"' in form and 'aria-describedby="id_assessments_helptext"' in form
    for level in ("full", "redacted", "aggregate"):
        assert _propose(client, undp, nrc, level=level, assessments="on").status_code == 302
    assert _propose(client, undp, nrc, level="full", countries="SD").status_code == 302
    assert sorted(Agreement.objects.values_list("level", "countries", "assessments")) == [
        ("aggregate", [], False),
        ("full", [], True),
        ("full", ["SD"], False),
        ("redacted", [], False),
    ]
    page = client.get(reverse("sharing:agreements")).text
    assert page.count("Full records · with security risk assessments") == 1
    assert page.count("Full records · without security risk assessments") == 1

    agreement = agreements.accept(Agreement.objects.get(assessments=True), by=nils)
    client.force_login(nils)
    shared = client.get(reverse("sharing:shared_detail", args=[agreement.pk])).text
    assert "Full records · with security risk assessments" in shared
