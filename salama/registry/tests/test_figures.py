import datetime
import json

from django.core.management import call_command
from django.utils import timezone

from salama.registry import choices as rc
from salama.registry import services
from salama.registry.conftest import make_case
from salama.registry.figures import accountability
from salama.registry.models import Case


def _ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


def _follow(case, officer, asked, answered=None):
    entry = services.add_follow_up(
        case,
        officer,
        {
            "date": asked,
            "channel": rc.Channel.NOTE_VERBALE,
            "from_entity": "RC",
            "authority": rc.Authority.FOREIGN_AFFAIRS,
        },
    )
    if answered:
        services.record_response(entry, officer, response_date=answered)


def test_accountability_figures_per_country_and_year(officer, undp, capsys):
    today = timezone.localdate()
    year = today.year - 1
    day = datetime.date(year, 6, 1)
    a = make_case(officer, undp, country="SS", date=day)
    b = make_case(officer, undp, country="SS", date=day)
    c = make_case(officer, undp, country="SS", date=day)
    d = make_case(officer, undp, country="SO", date=day)
    make_case(officer, undp, country="SS", date=datetime.date(year - 1, 6, 1))  # other year
    proposal = make_case(officer, undp, country="SS", date=day)
    Case.objects.filter(pk=proposal.pk).update(status=rc.CaseStatus.PROPOSED)  # not counted
    _follow(a, officer, day + datetime.timedelta(days=10), day + datetime.timedelta(days=40))
    _follow(b, officer, day + datetime.timedelta(days=10), day + datetime.timedelta(days=20))
    _follow(c, officer, day + datetime.timedelta(days=10))
    services.add_milestone(
        a, officer, stage=rc.Stage.TRIAL, date=day + datetime.timedelta(days=50), evidence="e"
    )
    services.add_milestone(
        b,
        officer,
        stage=rc.Stage.CLOSED_NO_ACTION,
        date=day + datetime.timedelta(days=50),
        evidence="e",
    )
    services.add_milestone(
        d, officer, stage=rc.Stage.CONVICTED, date=day + datetime.timedelta(days=50), evidence="e"
    )
    Case.objects.filter(pk=d.pk).update(status=rc.CaseStatus.CLOSED)
    Case.objects.filter(pk=c.pk).update(opened_on=_ago(400))

    rows = {(r["country"], r["year"]): r for r in accountability(year=year)["rows"]}
    ss = rows[("SS", year)]
    assert ss["cases_opened"] == 3
    assert ss["share_with_response"] == round(2 / 3, 4)
    assert ss["median_days_to_first_response"] == 20  # 30 and 10 days
    assert ss["share_investigation"] == round(1 / 3, 4)  # a trial implies investigation
    assert ss["share_charged"] == round(1 / 3, 4)
    assert ss["share_convicted"] == 0
    assert ss["open_cases"] == 3 and ss["open_by_age"]["1_to_2_years"] == 1
    so = rows[("SO", year)]
    assert so["share_convicted"] == 1.0 and so["open_cases"] == 0
    assert so["share_with_response"] == 0 and so["median_days_to_first_response"] is None

    call_command("registry", "figures", "--year", str(year), "--format", "json")
    data = json.loads(capsys.readouterr().out)
    assert {(r["country"], r["cases_opened"]) for r in data["rows"]} == {("SS", 3), ("SO", 1)}
    assert data["table_g"] == []
    call_command("registry", "figures", "--year", str(year))
    assert "SS" in capsys.readouterr().out


def test_sexual_violence_counts_only_with_consent_to_statistics(officer, undp):
    day = datetime.date(timezone.localdate().year - 1, 3, 1)
    case = make_case(officer, undp, offence=rc.Offence.SEXUAL_ASSAULT, country="CD", date=day)

    def opened():
        return sum(r["cases_opened"] for r in accountability()["rows"])

    assert opened() == 0
    services.record_consent(
        case, officer, use=rc.ConsentUse.STATISTICS, given=True, recorded_on=_ago(5)
    )
    assert opened() == 1
    services.record_consent(
        case, officer, use=rc.ConsentUse.STATISTICS, given=False, recorded_on=_ago(1)
    )
    assert opened() == 0
