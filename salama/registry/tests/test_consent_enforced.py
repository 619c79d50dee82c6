"""A survivor's consent is enforced, not only recorded: milestones, naming officers, the
figures; and the case page says which uses are consented to."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from salama.registry import choices as rc
from salama.registry import figures, services
from salama.registry.conftest import make_case, make_officer
from salama.registry.models import Case, CaseOfficer


def _ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


def consent(case, officer, use, given=True, days_ago=20):
    return services.record_consent(case, officer, use=use, given=given, recorded_on=_ago(days_ago))


@pytest.fixture
def recent_sv_case(officer, undp):
    """A sexual-violence case of 60 days ago, so milestones can follow it in order."""
    return make_case(
        officer, undp, offence=rc.Offence.SEXUAL_ASSAULT, gender="female", date=_ago(60)
    )


# ------------------------------------------------------------------------------ milestones


def test_a_milestone_needs_consent_to_the_authorities(recent_sv_case, officer):
    with pytest.raises(ValidationError) as error:
        services.add_milestone(
            recent_sv_case, officer, stage=rc.Stage.REPORTED, date=_ago(50), evidence="Receipt"
        )
    assert "stage" in error.value.message_dict
    assert "authorities" in error.value.message_dict["stage"][0]
    assert not recent_sv_case.milestones.exists()
    consent(recent_sv_case, officer, rc.ConsentUse.AUTHORITIES)
    services.add_milestone(
        recent_sv_case, officer, stage=rc.Stage.REPORTED, date=_ago(50), evidence="Receipt"
    )
    consent(recent_sv_case, officer, rc.ConsentUse.AUTHORITIES, given=False, days_ago=5)
    with pytest.raises(ValidationError):  # withdrawn
        services.add_milestone(
            recent_sv_case, officer, stage=rc.Stage.INVESTIGATION, date=_ago(4), evidence="Letter"
        )


@pytest.mark.parametrize(
    "stage", [rc.Stage.CHARGED, rc.Stage.TRIAL, rc.Stage.CONVICTED, rc.Stage.ACQUITTED]
)
def test_a_charge_a_trial_or_a_verdict_also_needs_consent_to_legal_proceedings(
    recent_sv_case, officer, stage
):
    consent(recent_sv_case, officer, rc.ConsentUse.AUTHORITIES)
    services.add_milestone(
        recent_sv_case, officer, stage=rc.Stage.ARREST, date=_ago(30), evidence="Police"
    )
    with pytest.raises(ValidationError) as error:
        services.add_milestone(recent_sv_case, officer, stage=stage, date=_ago(10), evidence="x")
    assert "legal proceedings" in error.value.message_dict["stage"][0]
    consent(recent_sv_case, officer, rc.ConsentUse.LEGAL)
    services.add_milestone(recent_sv_case, officer, stage=stage, date=_ago(10), evidence="x")
    assert services.current_stage(recent_sv_case).stage == stage


@pytest.mark.parametrize(
    "stage", [rc.Stage.SUSPECT, rc.Stage.CLOSED_NO_ACTION, rc.Stage.NO_INFORMATION]
)
def test_other_milestones_need_only_consent_to_the_authorities(recent_sv_case, officer, stage):
    consent(recent_sv_case, officer, rc.ConsentUse.AUTHORITIES)
    services.add_milestone(recent_sv_case, officer, stage=stage, date=_ago(10), evidence="x")


def test_milestones_of_other_cases_need_no_consent(case, officer):
    services.add_milestone(case, officer, stage=rc.Stage.CONVICTED, date=_ago(1), evidence="j")


def test_the_milestone_page_says_why_it_refused(client, recent_sv_case, officer):
    client.force_login(officer)
    url = reverse("registry:milestone", args=[recent_sv_case.reference])
    form = {"stage": "reported", "date": _ago(5).isoformat(), "evidence": "Police receipt"}
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "has not consented to the authorities" in refused.text
    assert "stage" in refused.context["form"].errors
    consent(recent_sv_case, officer, rc.ConsentUse.AUTHORITIES)
    assert client.post(url, form).status_code == 302


# --------------------------------------------------------------------------- naming officers


def test_naming_a_second_officer_needs_consent_to_sharing(sv_case, officer, second_officer, undp):
    third = make_officer("cecil", undp)
    with pytest.raises(ValidationError) as error:
        services.name_officer(sv_case, officer, second_officer)
    assert "officer" in error.value.message_dict
    assert not Case.objects.visible_to(second_officer).filter(pk=sv_case.pk).exists()
    consent(sv_case, officer, rc.ConsentUse.SHARING, days_ago=0)
    services.name_officer(sv_case, officer, second_officer)
    assert Case.objects.visible_to(second_officer).filter(pk=sv_case.pk).exists()
    consent(sv_case, officer, rc.ConsentUse.SHARING, given=False, days_ago=0)  # withdrawn
    with pytest.raises(ValidationError):
        services.name_officer(sv_case, officer, third)
    # Naming someone already named changes nothing, so it needs nothing.
    services.name_officer(sv_case, officer, second_officer)


def test_the_first_officer_needs_no_consent_to_sharing(sv_case, officer, second_officer):
    CaseOfficer.objects.filter(case=sv_case).delete()  # e.g. the only named officer left
    services.name_officer(sv_case, officer, second_officer)
    assert Case.objects.visible_to(second_officer).filter(pk=sv_case.pk).exists()


def test_break_glass_needs_no_consent_and_stays_logged(sv_case, second_officer):
    from salama.core.models import AuditEntry

    services.break_glass(sv_case, second_officer, "The survivor is in danger tonight; call her.")
    assert Case.objects.visible_to(second_officer).filter(pk=sv_case.pk).exists()
    assert AuditEntry.objects.filter(action="registry:break_glass").count() == 1


def test_the_naming_form_says_why_it_refused(client, sv_case, officer, second_officer):
    client.force_login(officer)
    response = client.post(
        reverse("registry:name_officer", args=[sv_case.reference]),
        {"officer": second_officer.pk},
        follow=True,
    )
    assert "has not consented to sharing" in response.text
    assert not CaseOfficer.objects.filter(case=sv_case, user=second_officer).exists()


# --------------------------------------------------------------------------------- figures


def test_figures_say_how_many_cases_were_left_out_for_lack_of_consent(officer, undp, capsys):
    year = timezone.localdate().year - 1
    day = datetime.date(year, 3, 1)
    asked = make_case(officer, undp, offence=rc.Offence.SEXUAL_ASSAULT, country="CD", date=day)
    refused = make_case(officer, undp, offence=rc.Offence.SEXUAL_ASSAULT, country="CD", date=day)
    make_case(officer, undp, offence=rc.Offence.SEXUAL_ASSAULT, country="CD", date=day)
    make_case(officer, undp, country="CD", date=day)
    consent(asked, officer, rc.ConsentUse.STATISTICS)
    consent(refused, officer, rc.ConsentUse.STATISTICS, given=False)

    data = figures.all_figures(year=year)
    assert {"year", "as_of", "rows", "table_g"} <= set(data)  # the keys there were before
    assert sum(r["cases_opened"] for r in data["rows"]) == 2  # consented + not restricted
    assert data["left_out_without_consent"] == 2  # never asked + refused

    consent(asked, officer, rc.ConsentUse.STATISTICS, given=False, days_ago=1)  # withdrawn
    assert figures.accountability(year=year)["left_out_without_consent"] == 3
    assert figures.accountability(year=year - 1)["left_out_without_consent"] == 0

    call_command("registry", "figures", "--year", str(year), "--format", "json")
    assert json.loads(capsys.readouterr().out)["left_out_without_consent"] == 3
    call_command("registry", "figures", "--year", str(year))
    assert "3 sexual-violence case(s) left out" in capsys.readouterr().out


def test_table_g_lists_a_restricted_case_only_with_consent_to_statistics(officer, undp):
    case = make_case(
        officer, undp, offence=rc.Offence.SEXUAL_ASSAULT, gender="female", date=_ago(30)
    )
    services.update_case(
        case.pk,
        user=officer,
        expected_version=case.version,
        fields={"offence": rc.Offence.ABDUCTION},  # stays restricted
        abduction={"abductor_type": rc.AbductorType.NSAG},
    )
    data = figures.all_figures()
    assert data["table_g"] == [] and data["table_g_left_out_without_consent"] == 1
    consent(case, officer, rc.ConsentUse.STATISTICS, days_ago=1)
    data = figures.all_figures()
    assert [r["reference"] for r in data["table_g"]] == [case.reference]
    assert data["table_g_left_out_without_consent"] == 0


def test_the_figures_page_says_how_many_were_left_out(client, analyst, officer, undp):
    make_case(officer, undp, offence=rc.Offence.SEXUAL_ASSAULT, date=_ago(30))
    client.force_login(analyst)
    response = client.get(reverse("registry:figures"))
    assert "1 case of sexual violence is left out" in response.text


# --------------------------------------------------------------------------- the case page


def test_the_case_page_shows_each_use_consented_refused_or_not_recorded(client, sv_case, officer):
    consent(sv_case, officer, rc.ConsentUse.REFERRAL, days_ago=3)
    consent(sv_case, officer, rc.ConsentUse.AUTHORITIES, given=False, days_ago=2)
    client.force_login(officer)
    response = client.get(reverse("registry:detail", args=[sv_case.reference]))
    states = {use: latest for use, latest, gate in response.context["consents"]}
    assert set(states) == set(rc.ConsentUse)
    assert states[rc.ConsentUse.REFERRAL].given
    assert states[rc.ConsentUse.AUTHORITIES].given is False
    assert states[rc.ConsentUse.LEGAL] is None
    text = response.text
    assert f"consent given ({_ago(3):%Y-%m-%d})" in text
    assert f"refused or withdrawn ({_ago(2):%Y-%m-%d})" in text
    assert text.count("not recorded: no consent") == 3  # statistics, legal, sharing
    assert "Salama does not refer anyone" in text  # referral is recorded only
