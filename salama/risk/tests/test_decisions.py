"""Go / no-go of activities × areas: who may accept, expiry and triggers on a frozen clock,
and ``salama risk decisions`` / ``load-matrix``."""

import datetime
import json
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from salama.conftest import make_user
from salama.core.models import AuditEntry
from salama.organisations.choices import Role
from salama.risk import choices as rc
from salama.risk import rules, services
from salama.risk.conftest import event, make_activity_area, make_area, make_assessment
from salama.risk.models import RiskAcceptance, RiskMatrix

pytestmark = pytest.mark.django_db
NOON = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOON.date()

# Residual risk High: Likely × Severe after measures.
HIGH = event(residual=(rc.Likelihood.LIKELY, rc.Impact.SEVERE))
LOW = event(residual=(rc.Likelihood.VERY_UNLIKELY, rc.Impact.SEVERE))


@pytest.fixture
def high_area(author, approver, area):
    make_assessment(author, area, events=[HIGH], approver=approver)
    return area


def decision(activity_area, today=TODAY):
    return services.decision_for(activity_area, today)


def test_an_acceptable_activity_needs_approval_then_goes_once_accepted(undp, high_area, approver):
    activity = make_activity_area(undp, high_area)  # 4 × 4 → PC2, may run up to High
    row = decision(activity)
    assert (row.pc_level, row.residual_risk) == ("PC2", "high")
    assert row.outcome.decision == rc.Decision.NEEDS_APPROVAL
    assert row.outcome.required_approver == "designated_official"
    with time_machine.travel(NOON, tick=False):
        acceptance = services.accept_risk(user=approver, activity_area=activity)
    assert acceptance.expires_on == datetime.date(2027, 6, 15)
    row = decision(activity)
    assert row.outcome.decision == rc.Decision.GO
    assert row.outcome.expires_on == datetime.date(2027, 6, 15)
    entry = AuditEntry.objects.get(action="risk.acceptance.approve")
    assert entry.actor == approver and entry.after["residual_risk"] == "high"


def test_an_activity_above_its_acceptable_risk_is_a_no_go_and_cannot_be_accepted(
    undp, high_area, head
):
    activity = make_activity_area(undp, high_area, contribution=2, implementation_likelihood=3)
    assert activity.pc_level == "PC3"
    row = decision(activity)
    assert row.outcome.decision == rc.Decision.NO_GO
    assert row.outcome.codes == ["above_acceptable"]
    with pytest.raises(services.WorkflowError, match="above what PC3 allows"):
        services.accept_risk(user=head, activity_area=activity, today=TODAY)
    assert not RiskAcceptance.objects.exists()


def test_an_approver_of_another_organisation_cannot_accept(undp, high_area, outside_approver):
    activity = make_activity_area(undp, high_area)
    with pytest.raises(PermissionDenied):
        services.accept_risk(user=outside_approver, activity_area=activity, today=TODAY)
    assert not services.can_accept(outside_approver, activity, "line_manager")
    assert decision(activity).outcome.decision == rc.Decision.NEEDS_APPROVAL


def test_an_approver_designated_too_low_cannot_accept_a_higher_risk(undp, high_area):
    from salama.risk.conftest import make_approver

    representative = make_approver("rep", undp, rc.ApproverLevel.AGENCY_REPRESENTATIVE)
    activity = make_activity_area(undp, high_area)
    with pytest.raises(PermissionDenied, match="Designated Official"):
        services.accept_risk(user=representative, activity_area=activity, today=TODAY)


def test_the_approver_role_without_a_designation_is_not_enough(undp, high_area):
    bare = make_user("bare", undp, roles=(Role.APPROVER,))
    activity = make_activity_area(undp, high_area)
    with pytest.raises(PermissionDenied):
        services.accept_risk(user=bare, activity_area=activity, today=TODAY)


def test_a_designation_without_the_approver_role_is_not_enough(undp, high_area):
    from salama.risk.models import ApprovalAuthority

    analyst = make_user("ann", undp, roles=(Role.ANALYST,))
    ApprovalAuthority.objects.create(organisation=undp, user=analyst, level="executive_head")
    activity = make_activity_area(undp, high_area)
    with pytest.raises(PermissionDenied):
        services.accept_risk(user=analyst, activity_area=activity, today=TODAY)


def test_an_acceptance_expires_after_twelve_months(undp, high_area, approver):
    activity = make_activity_area(undp, high_area)
    with time_machine.travel(NOON, tick=False):
        services.accept_risk(user=approver, activity_area=activity)
    with time_machine.travel(datetime.datetime(2027, 6, 14, 23, 0, tzinfo=datetime.UTC)):
        assert services.decision_for(activity, datetime.date(2027, 6, 14)).outcome.decision == (
            rc.Decision.GO
        )
    later = services.decision_for(activity, datetime.date(2027, 6, 15))
    assert later.outcome.decision == rc.Decision.NEEDS_APPROVAL
    assert later.outcome.codes == ["expired"]
    # and can be accepted again
    services.accept_risk(user=approver, activity_area=activity, today=datetime.date(2027, 6, 15))
    assert decision(activity, datetime.date(2027, 6, 15)).outcome.decision == rc.Decision.GO


def test_a_new_approved_assessment_sends_accepted_activities_back_to_review(
    undp, author, approver, high_area
):
    activity = make_activity_area(undp, high_area)
    services.accept_risk(user=approver, activity_area=activity, today=TODAY)
    make_assessment(author, high_area, events=[HIGH], approver=approver)  # same residual risk
    row = decision(activity)
    assert row.outcome.decision == rc.Decision.NEEDS_APPROVAL
    assert row.outcome.codes == ["new_assessment"]


def test_a_changed_residual_risk_sends_it_back_and_may_make_it_a_no_go(
    undp, author, approver, high_area, head
):
    pc2 = make_activity_area(undp, high_area, code="OUT-2")
    services.accept_risk(user=approver, activity_area=pc2, today=TODAY)
    worse = event(residual=(rc.Likelihood.VERY_LIKELY, rc.Impact.SEVERE))  # Very high
    make_assessment(author, high_area, events=[worse], approver=approver)
    row = decision(pc2)
    assert row.outcome.decision == rc.Decision.NO_GO  # PC2 may not run at Very high
    pc1 = make_activity_area(undp, high_area, code="OUT-1", pc1=True, pc1_reason="Cholera")
    assert decision(pc1).outcome.required_approver == "executive_head"
    services.accept_risk(user=head, activity_area=pc1, today=TODAY)
    assert decision(pc1).outcome.decision == rc.Decision.GO


def test_a_changed_pc_level_sends_it_back(undp, author, high_area, approver):
    activity = make_activity_area(undp, high_area)
    services.accept_risk(user=approver, activity_area=activity, today=TODAY)
    services.set_programme_criticality(
        user=author,
        activity_area=activity,
        fields={"pc1": True, "pc1_reason": "Life-saving at scale"},
    )
    outcome = decision(activity).outcome
    assert outcome.decision == rc.Decision.NEEDS_APPROVAL
    assert outcome.codes == ["pc_level_changed"]


def test_without_an_approved_assessment_every_activity_is_a_no_go(undp, author, area):
    make_assessment(author, area)  # a draft only
    activity = make_activity_area(undp, area, pc1=True, pc1_reason="Life-saving")
    outcome = decision(activity).outcome
    assert (outcome.decision, outcome.codes) == (rc.Decision.NO_GO, ["no_assessment"])


def test_weighing_many_pairs_takes_a_fixed_number_of_queries(
    undp, author, approver, django_assert_num_queries
):
    from salama.risk.models import ActivityArea

    for n in range(4):
        area = make_area(undp, f"Area {n}")
        make_assessment(author, area, events=[HIGH], approver=approver)
        for m in range(5):
            make_activity_area(undp, area, code=f"OUT-{m}")
    with django_assert_num_queries(3):
        rows = services.weigh(ActivityArea.objects.all(), TODAY)
    assert len(rows) == 20


# ---------------------------------------------------------------------------- the command


def test_salama_risk_decisions_as_json(undp, author, approver, head):
    area = make_area(undp, "Bor", admin1=("Jonglei",))
    make_assessment(author, area, events=[HIGH], approver=approver)
    make_activity_area(undp, area, code="A-PC1", pc1=True, pc1_reason="Life-saving")
    make_activity_area(undp, area, code="A-PC2")
    make_activity_area(undp, area, code="A-PC3", contribution=2, implementation_likelihood=4)
    services.accept_risk(
        user=approver,
        activity_area=undp.risk_activities.get(code="A-PC2").areas.get(),
        today=TODAY,
    )
    out = StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command("risk", "decisions", "--area", "Bor", "--format", "json", stdout=out)
    rows = {row["activity"]: row for row in json.loads(out.getvalue())}
    assert {k: (v["pc_level"], v["residual_risk"], v["decision"]) for k, v in rows.items()} == {
        "A-PC1": ("PC1", "high", "needs_approval"),
        "A-PC2": ("PC2", "high", "go"),
        "A-PC3": ("PC3", "high", "no_go"),
    }
    assert rows["A-PC1"]["required_approver"] == "designated_official"
    assert rows["A-PC2"]["expires_on"] == "2027-06-15"
    assert rows["A-PC3"]["required_approver"] is None and rows["A-PC3"]["reasons"]


def test_salama_risk_decisions_refuses_an_unknown_area(db):
    with pytest.raises(CommandError, match="No area named 'Atlantis'"):
        call_command("risk", "decisions", "--area", "Atlantis")


def test_salama_risk_load_matrix_loads_a_file_and_names_the_bad_cells(tmp_path, undp):
    good = rules.default_matrix().to_data() | {"version": "undp-2"}
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps(good))
    out = StringIO()
    call_command("risk", "load-matrix", str(path), "--organisation", "UNDP", stdout=out)
    assert "Loaded: matrix undp-2 for UNDP" in out.getvalue()
    assert RiskMatrix.objects.get(organisation=undp).version == "undp-2"

    bad = good | {"version": "undp-3"}
    bad["cells"] = dict(good["cells"]) | {"likely": ["low", "low", "low", "low", "low"]}
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError) as raised:
        call_command("risk", "load-matrix", str(path), "--organisation", "UNDP")
    message = str(raised.value)
    assert "The matrix was not loaded" in message
    for impact, was in (("Moderate", "Medium"), ("Severe", "High"), ("Critical", "High")):
        assert (
            f"Likely × {impact} is Low, lower than Moderately likely × {impact} ({was})" in message
        )
    assert "× Minor" not in message
    assert not RiskMatrix.objects.filter(version="undp-3").exists()


def test_salama_risk_load_matrix_says_what_is_wrong_with_a_broken_file(tmp_path):
    path = tmp_path / "matrix.yaml"
    path.write_text("version: [unclosed\n")
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("risk", "load-matrix", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("risk", "load-matrix", str(tmp_path / "missing.yaml"))
