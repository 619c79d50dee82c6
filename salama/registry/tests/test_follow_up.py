import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from salama.registry import choices as rc
from salama.registry import services
from salama.registry.conftest import IDENTITY, make_case
from salama.registry.models import Case, Detention
from salama.registry.reminders import send_reminders

TODAY = timezone.localdate


def _ago(days):
    return TODAY() - datetime.timedelta(days=days)


def _follow_up(**overrides):
    data = {
        "date": _ago(10),
        "channel": rc.Channel.NOTE_VERBALE,
        "from_entity": "Resident Coordinator's Office",
        "authority": rc.Authority.FOREIGN_AFFAIRS,
        "reference_no": "RCO/2024/1",
        "ask_investigate": True,
    }
    data.update(overrides)
    return data


def test_follow_up_with_a_response_moves_the_clock(case, officer):
    Case.objects.filter(pk=case.pk).update(last_movement=_ago(100))
    case.refresh_from_db()
    assert case.is_overdue()
    entry = services.add_follow_up(case, officer, _follow_up(date=_ago(20)))
    case.refresh_from_db()
    assert case.is_overdue()  # asking is not movement: an answer is
    services.record_response(entry, officer, response_date=_ago(5), summary="Will investigate.")
    case.refresh_from_db()
    assert case.last_movement == _ago(5) and not case.is_overdue()
    entry.refresh_from_db()
    assert entry.response_received and "investigate" in entry.summary


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"date": _ago(-1)}, "date"),
        ({"response_received": True}, "response_date"),
        ({"response_date": _ago(20), "date": _ago(10)}, "response_date"),
    ],
)
def test_bad_follow_up_is_refused(case, officer, overrides, field):
    with pytest.raises(ValidationError) as error:
        services.add_follow_up(case, officer, _follow_up(**overrides))
    assert field in error.value.message_dict
    assert not case.follow_ups.exists()


def test_milestones_go_in_order_and_stop_at_an_outcome(case, officer):
    services.add_milestone(case, officer, stage=rc.Stage.REPORTED, date=_ago(50), evidence="x")
    services.add_milestone(case, officer, stage=rc.Stage.ARREST, date=_ago(40), evidence="y")
    with pytest.raises(services.CaseError, match="in order"):
        services.add_milestone(case, officer, stage=rc.Stage.SUSPECT, date=_ago(30), evidence="z")
    with pytest.raises(ValidationError):
        services.add_milestone(case, officer, stage=rc.Stage.CHARGED, date=_ago(45), evidence="z")
    with pytest.raises(ValidationError):
        services.add_milestone(case, officer, stage=rc.Stage.CHARGED, date=_ago(3), evidence=" ")
    services.add_milestone(case, officer, stage=rc.Stage.CONVICTED, date=_ago(3), evidence="j")
    with pytest.raises(services.CaseError, match="outcome"):
        services.add_milestone(
            case, officer, stage=rc.Stage.NO_INFORMATION, date=_ago(1), evidence="k"
        )
    assert services.current_stage(case).stage == rc.Stage.CONVICTED
    assert [m.stage for m in case.milestones.all()] == ["reported", "arrest", "convicted"]


def test_overdue_setting_is_configurable(case, settings):
    Case.objects.filter(pk=case.pk).update(last_movement=_ago(40))
    case.refresh_from_db()
    assert not case.is_overdue()
    settings.REGISTRY_OVERDUE_DAYS = 30
    assert case.is_overdue()


def test_case_list_shows_overdue_first_and_filters(client, officer, undp):
    fresh = make_case(officer, undp)
    old = make_case(officer, undp, offence=rc.Offence.ABDUCTION, country="ML")
    Case.objects.filter(pk=old.pk).update(last_movement=_ago(200))
    closed = make_case(officer, undp)
    Case.objects.filter(pk=closed.pk).update(status=rc.CaseStatus.CLOSED, last_movement=_ago(400))
    client.force_login(officer)
    page = client.get(reverse("registry:list"))
    refs = [c.reference for c in page.context["cases"]]
    assert refs == [old.reference, fresh.reference, closed.reference]
    overdue = client.get(reverse("registry:list"), {"overdue": "on"}).context["cases"]
    assert [c.reference for c in overdue] == [old.reference]
    by_country = client.get(reverse("registry:list"), {"country": "ML"}).context["cases"]
    assert [c.reference for c in by_country] == [old.reference]
    by_offence = client.get(reverse("registry:list"), {"offence": "killing", "status": "open"})
    assert [c.reference for c in by_offence.context["cases"]] == [fresh.reference]
    mine = client.get(reverse("registry:list"), {"owner": "none"}).context["cases"]
    assert mine == []


def test_remind_emails_each_owner_a_digest_without_names(case, officer, undp, sv_case):
    Case.objects.filter(pk__in=[case.pk, sv_case.pk]).update(last_movement=_ago(120))
    ownerless = make_case(officer, undp)
    Case.objects.filter(pk=ownerless.pk).update(owner=None, last_movement=_ago(95))
    make_case(officer, undp)  # fresh: not in the digest
    call_command("registry", "remind")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["cora@example.org"]
    assert case.reference in message.body and ownerless.reference in message.body
    assert sv_case.reference in message.body
    assert "Sexual" not in message.body  # a restricted case's offence stays out of mail
    assert IDENTITY["name"] not in message.body
    assert message.subject == "Salama: 3 overdue cases"
    assert "nothing moved for 120 days" in message.body


def test_a_reminder_counts_in_the_plural_form_of_the_language(case, officer):
    Case.objects.filter(pk=case.pk).update(last_movement=_ago(120))
    with translation.override("ru"):
        send_reminders()
    [message] = mail.outbox
    assert message.subject == "Salama: 1 просроченное дело"
    assert "без движения 120 дней" in message.body


def test_reminders_link_to_each_case_at_the_site_url(case, officer, settings):
    settings.SITE_URL = "https://salama.example.org"
    Case.objects.filter(pk=case.pk).update(last_movement=_ago(120))
    call_command("registry", "remind")
    [message] = mail.outbox
    link = "https://salama.example.org" + reverse("registry:detail", args=[case.reference])
    assert link in message.body


def test_concurrent_edits_are_refused_as_stale(case, officer, second_officer):
    loaded = case.version
    services.update_case(
        case.pk, user=officer, expected_version=loaded, fields={"focal_point": "MFA protocol"}
    )
    with pytest.raises(services.StaleEdit) as stale:
        services.update_case(
            case.pk, user=officer, expected_version=loaded, fields={"focal_point": "Police HQ"}
        )
    assert stale.value.changes["focal_point"] == ("", "MFA protocol")
    case.refresh_from_db()
    assert case.focal_point == "MFA protocol"
    with pytest.raises(services.StaleEdit):
        services.set_identity(case, officer, expected_version=loaded, data={"name": "X"})
    assert services.read_identity(case, officer)["name"] == IDENTITY["name"]


def test_stale_edit_page_shows_what_changed(client, officer, case):
    client.force_login(officer)
    url = reverse("registry:edit", args=[case.reference])
    form = {
        "offence": case.offence,
        "perpetrator_type": case.perpetrator_type,
        "country": case.country,
        "date": case.date.isoformat(),
        "gender": case.gender,
        "recruitment": case.recruitment,
        "version": case.version,
    }
    assert client.post(url, form | {"focal_point": "first"}).status_code == 302
    response = client.post(url, form | {"focal_point": "second"})
    assert response.status_code == 200 and response.context["conflict"]
    assert "focal_point" in response.context["conflict"]
    case.refresh_from_db()
    assert case.focal_point == "first"


def test_detention_days_held_and_table_g(case, officer):
    services.update_case(
        case.pk,
        user=officer,
        expected_version=case.version,
        fields={"offence": rc.Offence.ARREST_DETENTION, "date": _ago(30)},
        detention={"authority": rc.DetainingAuthority.DE_FACTO, "medical_access_on": _ago(2)},
    )
    detention = Detention.objects.get(case=case)
    assert detention.days_held() == 30 and detention.access_granted
    from salama.registry.figures import table_g

    rows = table_g()
    assert rows[0]["reference"] == case.reference and rows[0]["days_held"] == 30
    case.refresh_from_db()
    services.update_case(
        case.pk, user=officer, expected_version=case.version, detention={"release_date": _ago(10)}
    )
    detention.refresh_from_db()
    assert detention.days_held() == 20
    assert table_g() == []
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        services.update_case(
            case.pk,
            user=officer,
            expected_version=case.version,
            detention={"release_date": _ago(40)},
        )


def test_abduction_outcome_rules(case, officer):
    services.update_case(
        case.pk, user=officer, expected_version=case.version, fields={"date": _ago(90)}
    )
    case.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.update_case(
            case.pk,
            user=officer,
            expected_version=case.version,
            abduction={"abductor_type": "nsag", "outcome": rc.AbductionOutcome.RELEASED},
        )
    assert "release_date" in error.value.message_dict
    services.update_case(
        case.pk,
        user=officer,
        expected_version=case.version,
        abduction={
            "abductor_type": "nsag",
            "demands_made": True,
            "proof_of_life": [_ago(60).isoformat(), _ago(30)],
            "outcome": rc.AbductionOutcome.RELEASED,
            "release_date": _ago(5),
        },
    )
    case.refresh_from_db()
    assert case.abduction.days_held() == 85
    assert case.abduction.proof_of_life == [_ago(60).isoformat(), _ago(30).isoformat()]


def test_sexual_violence_follow_up_needs_consent(sv_case, officer):
    with pytest.raises(services.CaseError, match="consent"):
        services.add_follow_up(sv_case, officer, _follow_up())
    services.record_consent(
        sv_case, officer, use=rc.ConsentUse.AUTHORITIES, given=True, recorded_on=_ago(3)
    )
    services.add_follow_up(sv_case, officer, _follow_up())
    services.record_consent(
        sv_case, officer, use=rc.ConsentUse.AUTHORITIES, given=False, recorded_on=_ago(1)
    )
    with pytest.raises(services.CaseError):  # consent withdrawn
        services.add_follow_up(sv_case, officer, _follow_up())


def test_restriction_cannot_be_lifted(sv_case, officer):
    services.update_case(
        sv_case.pk,
        user=officer,
        expected_version=sv_case.version,
        fields={"offence": rc.Offence.ABDUCTION, "sexual_violence": False},
    )
    sv_case.refresh_from_db()
    assert sv_case.offence == rc.Offence.ABDUCTION and sv_case.sexual_violence


def test_pages_log_entries(client, officer, case):
    client.force_login(officer)
    ref = case.reference
    response = client.post(
        reverse("registry:follow_up", args=[ref]),
        {
            "date": _ago(3).isoformat(),
            "channel": "letter",
            "from_entity": "UNDSS",
            "authority": "police",
            "ask_inform": "on",
        },
    )
    assert response.status_code == 302
    entry = case.follow_ups.get()
    response = client.post(
        reverse("registry:response", args=[ref, entry.pk]),
        {"response_date": _ago(1).isoformat(), "summary": "Acknowledged"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("registry:milestone", args=[ref]),
        {"stage": "reported", "date": _ago(2).isoformat(), "evidence": "Police receipt"},
    )
    assert response.status_code == 302
    bad = client.post(
        reverse("registry:milestone", args=[ref]),
        {"stage": "reported", "date": _ago(1).isoformat(), "evidence": "again"},
    )
    assert bad.status_code == 200 and "in order" in bad.text
    detail = client.get(reverse("registry:detail", args=[ref]))
    assert "Police receipt" in detail.text and "Acknowledged" in detail.text
    assert "Letter to Police — asked to: inform" in detail.text
    assert "Response from Police" in detail.text
    closed = client.post(
        reverse("registry:decide", args=[ref, "close"]),
        {"reason": "Perpetrator convicted; family informed.", "version": case.version},
    )
    assert closed.status_code == 302
    case.refresh_from_db()
    assert case.status == rc.CaseStatus.CLOSED


def test_the_timeline_reads_as_whole_sentences_in_french(client, officer, case):
    services.add_follow_up(case, officer, _follow_up(ask_inform=True))
    client.force_login(officer)
    detail = client.get(
        reverse("registry:detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert (
        "Note verbale — destinataire : Ministère des affaires étrangères (RCO/2024/1) — "
        "demandes : enquêter, informer"
    ) in detail.text


def test_an_ownerless_restricted_case_goes_to_focal_points_or_else_admins(
    officer, second_officer, org_admin, undp
):
    """Not to every case officer, as an ordinary ownerless case does: a restricted case is
    for its named officers and the survivor focal points only."""
    restricted = make_case(
        officer, undp, identity=IDENTITY, offence=rc.Offence.SEXUAL_ASSAULT, gender="female"
    )
    ordinary = make_case(officer, undp)
    Case.objects.filter(pk__in=[restricted.pk, ordinary.pk]).update(
        owner=None, last_movement=_ago(100)
    )

    # No focal point yet: the organisation's admin hears of it, the officers do not.
    call_command("registry", "remind")
    sent = {m.to[0]: m.body for m in mail.outbox}
    assert restricted.reference in sent["ada@example.org"]
    assert ordinary.reference not in sent["ada@example.org"]
    for address in ("cora@example.org", "cyril@example.org"):
        assert ordinary.reference in sent[address]
        assert restricted.reference not in sent[address]

    mail.outbox.clear()
    services.designate_focal_point(undp, second_officer, by=org_admin)
    call_command("registry", "remind")
    sent = {m.to[0]: m.body for m in mail.outbox}
    assert restricted.reference in sent["cyril@example.org"]
    assert restricted.reference not in sent["cora@example.org"]
    assert "ada@example.org" not in sent
