"""`salama agreement`: proposing, answering, ending and listing agreements from the command line
as a named user (through ``sharing.agreements``, so the same roles and the same audit log), and
an agreement's figures with small cells suppressed."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from salama.conftest import make_incident, make_organisation, make_user
from salama.core.markings import TLP
from salama.core.models import AuditEntry
from salama.incidents import choices as c
from salama.incidents.services import submit
from salama.organisations.choices import OrganisationType, Role
from salama.sharing.models import Agreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def wfp(db):
    return make_organisation("WFP", OrganisationType.UN_AFP, "World Food Programme")


def run(*args) -> tuple[str, str]:
    """Every option goes through the parser, as on the command line."""
    out, err = io.StringIO(), io.StringIO()
    call_command("agreement", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args) -> str:
    with pytest.raises(CommandError) as raised:
        run(*args)
    return str(raised.value)


def propose(*extra, provider="UNDP", recipient="NRC", level="full", by="ada") -> Agreement:
    run(
        "propose",
        *("--provider", provider, "--recipient", recipient, "--level", level),
        *("--purpose", "SLT security cell, South Sudan", "--as", by),
        *extra,
    )
    return Agreement.objects.latest("proposed_at")


def test_a_provider_admin_proposes_and_the_recipient_admin_accepts(undp_admin, nrc_admin):
    out, _ = run(
        "propose",
        *("--provider", "undp", "--recipient", "NRC", "--level", "redacted"),
        *("--purpose", "SLT security cell, Sudan", "--countries", "ss, sd"),
        *("--starts", "2024-01-01", "--ends", "2099-12-31", "--narratives", "--as", "ada"),
    )
    agreement = Agreement.objects.get()
    assert f"Agreement {agreement.pk} proposed: UNDP → NRC (Redacted records)" in out
    assert (agreement.provider.acronym, agreement.recipient.acronym) == ("UNDP", "NRC")
    assert agreement.level == "redacted" and agreement.narratives
    assert agreement.countries == ["SD", "SS"]
    assert agreement.starts_on == datetime.date(2024, 1, 1)
    assert agreement.ends_on == datetime.date(2099, 12, 31)
    assert agreement.proposed_by == undp_admin and agreement.state() == "proposed"

    out, _ = run("accept", str(agreement.pk), "--as", "nils")
    assert f"Agreement {agreement.pk} accepted" in out and "in force" in out
    agreement.refresh_from_db()
    assert agreement.accepted_by == nrc_admin and agreement.state() == "in_force"
    steps = AuditEntry.objects.filter(object_id=str(agreement.pk)).order_by("seq")
    assert [(e.action, e.actor) for e in steps] == [
        ("agreement:propose", undp_admin),
        ("agreement:accept", nrc_admin),
    ]


def test_the_list_shows_each_agreement_and_filters_by_organisation_and_state(
    undp, nrc, wfp, undp_admin, nrc_admin
):
    offered = propose("--countries", "SS,SD", "--starts", "2024-01-01", "--ends", "2099-12-31")
    open_ended = propose("--starts", "2024-06-01", level="aggregate")
    run("accept", str(open_ended.pk), "--as", "nils")
    make_user("wendy", wfp, roles=(Role.ORG_ADMIN,))
    elsewhere = propose(provider="NRC", recipient="WFP", by="nils")

    out, _ = run("list")
    lines = out.splitlines()
    assert lines[0].split() == ["id", "provider", "→", "recipient", "level"] + [
        "countries",
        "term",
        "state",
    ]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[str(offered.pk)] == [
        str(offered.pk),
        "UNDP",
        "→",
        "NRC",
        "full",
        "SD,SS",
        "2024-01-01",
        "to",
        "2099-12-31",
        "proposed",
    ]
    assert rows[str(open_ended.pk)][4:] == ["aggregate", "all", "from", "2024-06-01", "in_force"]
    assert rows[str(elsewhere.pk)][1:4] == ["NRC", "→", "WFP"]

    def ids(*args):
        return {line.split()[0] for line in run("list", *args)[0].splitlines()[1:]}

    assert ids("--organisation", "wfp") == {str(elsewhere.pk)}
    assert ids("--organisation", "NRC") == {str(a.pk) for a in (offered, open_ended, elsewhere)}
    assert ids("--state", "in_force") == {str(open_ended.pk)}
    assert ids("--organisation", "WFP", "--state", "in_force") == set()
    assert run("list", "--state", "ended") == ("", "No agreements.\n")
    assert "No organisation 'MSF'" in fails("list", "--organisation", "MSF")
    assert "invalid choice: 'over'" in fails("list", "--state", "over")


def test_the_recipient_declines_and_either_side_ends(undp_admin, nrc_admin):
    declined = propose()
    out, _ = run("decline", str(declined.pk), "--reason", "No need to know", "--as", "nils")
    assert f"Agreement {declined.pk} declined" in out
    declined.refresh_from_db()
    assert declined.state() == "declined" and declined.end_reason == "No need to know"
    assert declined.ended_by == nrc_admin

    ended = propose()
    run("accept", str(ended.pk), "--as", "nils")
    out, _ = run("end", str(ended.pk), "--reason", "Programme closed", "--as", "ada")
    assert f"Agreement {ended.pk} ended: UNDP → NRC (Full records)." in out
    ended.refresh_from_db()
    assert ended.state() == "ended" and ended.ended_by == undp_admin
    assert ended.end_reason == "Programme closed"
    # The recipient's admin may end one too, even before answering it.
    withdrawn = propose()
    run("end", str(withdrawn.pk), "--as", "nils")
    withdrawn.refresh_from_db()
    assert withdrawn.state() == "ended" and withdrawn.ended_by == nrc_admin
    assert list(
        AuditEntry.objects.filter(action__startswith="agreement:")
        .order_by("seq")
        .values_list("action", flat=True)
    ) == [
        "agreement:propose",
        "agreement:decline",
        "agreement:propose",
        "agreement:accept",
        "agreement:end",
        "agreement:propose",
        "agreement:end",
    ]


def test_the_rules_of_agreements_refuse_with_their_own_message(
    undp_admin, nrc_admin, reporter, wfp
):
    def refused(*args) -> str:
        before = (Agreement.objects.count(), AuditEntry.objects.count())
        message = fails(*args)
        assert (Agreement.objects.count(), AuditEntry.objects.count()) == before, message
        return message

    base = ("--level", "full", "--purpose", "SLT")
    assert refused(
        "propose", "--provider", "UNDP", "--recipient", "NRC", *base, "--as", "rita"
    ) == ("Only an organisation admin of UNDP may offer its data.")
    assert refused(
        "propose", "--provider", "UNDP", "--recipient", "NRC", *base, "--as", "nils"
    ) == ("Only an organisation admin of UNDP may offer its data.")
    assert "itself" in refused(
        "propose", "--provider", "UNDP", "--recipient", "undp", *base, "--as", "ada"
    )
    assert "Unknown country codes: XX" in refused(
        "propose", "--provider", "UNDP", "--recipient", "NRC", *base, "--countries", "SS,XX",
        "--as", "ada",
    )  # fmt: skip
    assert "purpose" in refused(
        "propose", "--provider", "UNDP", "--recipient", "NRC", "--level", "full",
        "--purpose", "  ", "--as", "ada",
    )  # fmt: skip
    assert "cannot end before it starts" in refused(
        "propose", "--provider", "UNDP", "--recipient", "NRC", *base,
        "--starts", "2025-06-01", "--ends", "2025-05-31", "--as", "ada",
    )  # fmt: skip

    agreement = propose()
    assert refused("accept", str(agreement.pk), "--as", "ada") == (
        "Only an organisation admin of NRC may accept it."
    )
    assert refused("decline", str(agreement.pk), "--as", "ada") == (
        "Only an organisation admin of NRC may decline it."
    )
    make_user("wendy", wfp, roles=(Role.ORG_ADMIN,))
    assert refused("end", str(agreement.pk), "--as", "wendy") == (
        "Only an organisation admin of either side may end it."
    )
    run("accept", str(agreement.pk), "--as", "nils")
    assert (
        refused("accept", str(agreement.pk), "--as", "nils")
        == "This agreement can no longer change this way: it is “In force”."
    )
    assert (
        refused("decline", str(agreement.pk), "--as", "nils")
        == "This agreement can no longer change this way: it is “In force”."
    )
    run("end", str(agreement.pk), "--as", "nils")
    assert (
        refused("end", str(agreement.pk), "--as", "ada")
        == "This agreement can no longer change this way: it is “Ended”."
    )


def test_unknown_names_ids_dates_and_levels_are_clear_errors(undp_admin, nrc_admin):
    agreement = propose()
    before = (Agreement.objects.count(), AuditEntry.objects.count())
    propose_args = ("propose", "--level", "full", "--purpose", "SLT", "--as")
    assert fails(*propose_args, "ada", "--provider", "UNDPX", "--recipient", "NRC") == (
        "No organisation 'UNDPX'."
    )
    assert fails(*propose_args, "ada", "--provider", "UNDP", "--recipient", "MSF") == (
        "No organisation 'MSF'."
    )
    assert fails(*propose_args, "ghost", "--provider", "UNDP", "--recipient", "NRC") == (
        "No active user 'ghost'."
    )
    assert fails(
        *propose_args, "ada", "--provider", "UNDP", "--recipient", "NRC", "--starts", "1/6/2025"
    ) == ("--starts must be a date like 2025-01-31, not '1/6/2025'.")
    assert fails(
        *propose_args, "ada", "--provider", "UNDP", "--recipient", "NRC", "--ends", "2025-02-30"
    ) == ("--ends must be a date like 2025-01-31, not '2025-02-30'.")
    assert "invalid choice: 'partial'" in fails(
        "propose", "--provider", "UNDP", "--recipient", "NRC", "--level", "partial",
        "--purpose", "SLT", "--as", "ada",
    )  # fmt: skip
    assert "required: --as" in fails(
        "propose", "--provider", "UNDP", "--recipient", "NRC", "--level", "full",
        "--purpose", "SLT",
    )  # fmt: skip
    assert "required: --as" in fails("accept", str(agreement.pk))

    for action in ("accept", "decline", "end"):
        assert fails(action, "9999", "--as", "nils") == (
            "No agreement '9999' (see 'salama agreement list')."
        )
        assert fails(action, "seven", "--as", "nils") == (
            "No agreement 'seven' (see 'salama agreement list')."
        )
        assert fails(action, str(agreement.pk), "--as", "nobody") == "No active user 'nobody'."
    assert "No agreement '9999'" in fails("figures", "9999")

    # A deactivated admin acts no more.
    nrc_admin.is_active = False
    nrc_admin.save()
    assert fails("accept", str(agreement.pk), "--as", "nils") == "No active user 'nils'."
    assert (Agreement.objects.count(), AuditEntry.objects.count()) == before
    agreement.refresh_from_db()
    assert agreement.state() == "proposed"


# -- figures ------------------------------------------------------------------------------


@pytest.fixture
def shared(settings, reporter, undp, nrc, undp_admin, nrc_admin):
    """UNDP's incidents: in South Sudan 2024, six TLP:AMBER ones (six injured, one killed);
    in Sudan 2024, two; in South Sudan 2023, one; and what is never counted."""
    settings.SHARING_MIN_CELL = 5
    sudan = {"country": "SD", "admin1": "Khartoum", "place": "Khartoum"}
    sudan |= {"latitude": 15.5, "longitude": 32.53}
    killed = {
        "impact": c.Impact.KILLED,
        "cause": c.Cause.VIOLENCE,
        "recruitment": c.Recruitment.NATIONAL,
        "gender": c.Gender.MALE,
    }

    def amber(**fields):
        return submit(make_incident(reporter, undp, marking=TLP.AMBER, **fields), reporter)

    for _ in range(6):
        amber()
    amber(persons=[killed])  # an incident with no one injured, one killed
    amber(**sudan)
    amber(**sudan)
    amber(date=datetime.date(2023, 5, 2))
    # Never counted: TLP:GREEN (seen already), TLP:RED, a draft, another organisation's.
    submit(make_incident(reporter, undp, marking=TLP.GREEN), reporter)
    submit(make_incident(reporter, undp, marking=TLP.RED), reporter)
    make_incident(reporter, undp, marking=TLP.AMBER)
    nina = make_user("nina", nrc, roles=(Role.REPORTER,))
    submit(make_incident(nina, nrc, marking=TLP.AMBER), nina)
    return propose(level="aggregate")


def test_figures_as_csv_hide_small_cells(shared):
    run("accept", str(shared.pk), "--as", "nils")
    out, err = run("figures", str(shared.pk))
    assert err == ""
    assert out.splitlines() == [
        "country,year,incidents,killed,injured,abducted,detained,sexual_violence,other",
        "SD,2024,<5,0,<5,0,0,0,0",
        "SS,2024,7,<5,6,0,0,0,0",
        "SS,2023,<5,0,<5,0,0,0,0",
    ]


def test_figures_as_json_give_null_for_small_cells_and_say_when_nothing_is_shared(shared):
    out, err = run("figures", str(shared.pk), "--format", "json")
    assert "is proposed, awaiting the recipient: nothing is shared under it now" in err
    rows = json.loads(out)
    assert rows[1] == {
        "country": "SS",
        "year": 2024,
        "incidents": 7,
        "killed": None,
        "injured": 6,
        "abducted": 0,
        "detained": 0,
        "sexual_violence": 0,
        "other": 0,
    }
    assert [(r["country"], r["year"], r["incidents"]) for r in rows] == [
        ("SD", 2024, None),
        ("SS", 2024, 7),
        ("SS", 2023, None),
    ]


def test_figures_follow_the_agreements_countries(shared, settings):
    settings.SHARING_MIN_CELL = 2
    sudan_only = propose("--countries", "SD", level="aggregate")
    out, _ = run("figures", str(sudan_only.pk))
    assert out.splitlines()[1:] == ["SD,2024,2,0,2,0,0,0,0"]
    assert "invalid choice: 'xlsx'" in fails("figures", str(sudan_only.pk), "--format", "xlsx")


def test_assessments_are_shared_only_by_a_full_agreement(undp_admin, nrc_admin):
    full = propose("--assessments")
    assert full.level == "full" and full.assessments
    assert not propose().assessments
    assert not propose("--assessments", level="redacted").assessments
    assert not propose("--assessments", level="aggregate").assessments
    entry = AuditEntry.objects.filter(action="agreement:propose", object_id=str(full.pk)).get()
    assert entry.after["assessments"] is True
