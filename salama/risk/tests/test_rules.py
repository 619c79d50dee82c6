"""The rule tables, walked exhaustively: matrix, monotone check, PC table, acceptable risk,
approvers and the go / no-go of every PC level × every residual risk level."""

import datetime
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salama.risk import rules
from salama.risk.choices import Decision

L = rules.LIKELIHOODS
I = rules.IMPACTS  # noqa: E741

# domain.md §1.4, written out again by hand: rows = likelihood (very likely first).
DOMAIN_MATRIX = {
    "very_likely": ["low", "medium", "high", "very_high", "unacceptable"],
    "likely": ["low", "medium", "high", "high", "very_high"],
    "moderately_likely": ["low", "low", "medium", "high", "high"],
    "unlikely": ["low", "low", "low", "medium", "medium"],
    "very_unlikely": ["low", "low", "low", "low", "low"],
}

# domain.md §2.2: which PC levels may run at each residual risk.
ALLOWED = {
    "low": {"PC1", "PC2", "PC3", "PC4"},
    "medium": {"PC1", "PC2", "PC3"},
    "high": {"PC1", "PC2"},
    "very_high": {"PC1"},
    "unacceptable": set(),
}
APPROVER = {
    "low": "line_manager",
    "medium": "agency_representative",
    "high": "designated_official",
    "very_high": "executive_head",
    "unacceptable": None,
}
TODAY = datetime.date(2026, 6, 15)


def matrix_data(cells=None, **overrides):
    return {"version": "test-1", "name": "test", "cells": cells or DOMAIN_MATRIX} | overrides


# ------------------------------------------------------------------------------ the matrix


def test_the_default_matrix_is_the_one_in_the_domain_notes():
    matrix = rules.default_matrix()
    for likelihood, row in DOMAIN_MATRIX.items():
        for impact, level in zip(I, row, strict=True):
            assert matrix.level(likelihood, impact) == level, (likelihood, impact)
    assert len(matrix.cells) == 25


def test_the_default_matrix_is_monotone():
    assert rules.monotone_problems(rules.default_matrix().cells) == []


def test_a_matrix_survives_the_round_trip_through_its_file_shape():
    matrix = rules.default_matrix()
    assert rules.parse_matrix(matrix.to_data()) == matrix
    assert rules.parse_matrix(matrix.to_data()).cells == matrix.cells


def test_a_matrix_where_risk_falls_as_likelihood_rises_is_refused_naming_the_cells():
    cells = {k: list(v) for k, v in DOMAIN_MATRIX.items()}
    cells["likely"][3] = "medium"  # Likely × Severe below Moderately likely × Severe (High)
    with pytest.raises(rules.RuleError) as raised:
        rules.parse_matrix(matrix_data(cells))
    message = str(raised.value)
    assert "Likely × Severe is Medium" in message
    assert "lower than Moderately likely × Severe (High)" in message
    assert "likelihood rises" in message


def test_a_matrix_where_risk_falls_as_impact_rises_is_refused_naming_the_cells():
    cells = {k: list(v) for k, v in DOMAIN_MATRIX.items()}
    cells["very_likely"][4] = "high"  # Very likely × Critical below Very likely × Severe
    with pytest.raises(rules.RuleError) as raised:
        rules.parse_matrix(matrix_data(cells))
    assert any(
        "Very likely × Critical is High, lower than Very likely × Severe (Very high)" in p
        for p in raised.value.problems
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (matrix_data(version=""), "no version"),
        (matrix_data(cells={"likely": DOMAIN_MATRIX["likely"]}), "Row 'very_unlikely'"),
        (
            matrix_data(cells=DOMAIN_MATRIX | {"likely": ["low"] * 4}),
            "Row 'likely' must have 5",
        ),
        (
            matrix_data(cells=DOMAIN_MATRIX | {"likely": ["low", "low", "low", "low", "huge"]}),
            "Likely × Critical: unknown risk level 'huge'",
        ),
        (matrix_data(cells=DOMAIN_MATRIX | {"certain": ["low"] * 5}), "Unknown likelihood"),
        (matrix_data(impact=["minor", "negligible"]), "impact must list"),
        ("just text", "must be a mapping"),
    ],
)
def test_a_malformed_matrix_gets_a_clear_error(data, expected):
    with pytest.raises(rules.RuleError) as raised:
        rules.parse_matrix(data)
    assert expected in str(raised.value)


levels = st.sampled_from(range(len(rules.RISK_LEVELS)))


@st.composite
def monotone_grids(draw):
    """Random monotone 5 × 5 grids of risk ranks (each cell ≥ its lower neighbours)."""
    grid = {}
    for li, ii in itertools.product(range(5), range(5)):
        floor = max(grid.get((li - 1, ii), 0), grid.get((li, ii - 1), 0))
        grid[(li, ii)] = draw(st.integers(floor, len(rules.RISK_LEVELS) - 1))
    return grid


def _cells(grid):
    return {L[li]: [rules.RISK_LEVELS[grid[(li, ii)]] for ii in range(5)] for li in range(5)}


@given(monotone_grids())
def test_every_monotone_matrix_is_accepted(grid):
    matrix = rules.parse_matrix(matrix_data(_cells(grid)))
    assert matrix.level(L[4], I[4]) == rules.RISK_LEVELS[grid[(4, 4)]]


@given(monotone_grids(), st.integers(0, 4), st.integers(0, 4))
def test_lowering_a_cell_below_a_lower_neighbour_is_always_caught(grid, li, ii):
    below = max(grid.get((li - 1, ii), 0), grid.get((li, ii - 1), 0))
    if below == 0:
        return  # no lower neighbour above Low: nothing can fall below it
    grid = dict(grid)
    grid[(li, ii)] = below - 1
    with pytest.raises(rules.RuleError) as raised:
        rules.parse_matrix(matrix_data(_cells(grid)))
    assert f"{rules.label(rules.Likelihood, L[li])} × {rules.label(rules.Impact, I[ii])}" in str(
        raised.value
    )


# ------------------------------------------------------------------ programme criticality


def test_pc1_comes_from_its_own_yes_no_whatever_the_table_says():
    pc = rules.pc_rules()
    for contribution, likelihood in itertools.product((None, 1, 2, 3, 4), repeat=2):
        assert pc.pc_level(pc1=True, contribution=contribution, likelihood=likelihood) == "PC1"


def test_the_pc_table_gives_pc2_to_pc4_for_every_rating_and_is_monotone():
    pc = rules.pc_rules()
    expected = {
        4: ["PC3", "PC3", "PC2", "PC2"],
        3: ["PC4", "PC3", "PC3", "PC2"],
        2: ["PC4", "PC4", "PC3", "PC3"],
        1: ["PC4", "PC4", "PC4", "PC4"],
    }
    for contribution, row in expected.items():
        for likelihood, level in zip((1, 2, 3, 4), row, strict=True):
            assert pc.pc_level(pc1=False, contribution=contribution, likelihood=likelihood) == level


def test_an_unrated_activity_has_no_pc_level():
    pc = rules.pc_rules()
    assert pc.pc_level(pc1=False, contribution=None, likelihood=3) is None
    assert pc.pc_level(pc1=False, contribution=3, likelihood=None) is None


def _pc_data(**overrides):
    return rules.read_yaml(rules.PC_FILE) | overrides


def test_a_pc_table_that_gets_less_critical_as_contribution_rises_is_refused():
    table = dict(rules.read_yaml(rules.PC_FILE)["pc_table"])
    table[4] = ["PC4", "PC3", "PC2", "PC2"]
    table[3] = ["PC3", "PC3", "PC3", "PC2"]  # 4 × 1 (PC4) is now below 3 × 1 (PC3)
    with pytest.raises(rules.RuleError) as raised:
        rules.parse_pc_rules(_pc_data(pc_table=table))
    assert "pc_table 4 × 1 is PC4, less critical than 3 × 1 (PC3)" in str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"pc_table": {4: ["PC1", "PC2", "PC2", "PC2"]}}, "is not PC2, PC3 or PC4"),
        ({"max_acceptable": {"PC1": "very_high", "PC2": "high"}}, "no risk level for PC3"),
        (
            {"max_acceptable": {"PC1": "high", "PC2": "very_high", "PC3": "low", "PC4": "low"}},
            "must not rise",
        ),
        ({"approver_for": {"low": "line_manager"}}, "no approver for medium"),
        ({"approver_levels": ["line_manager", "pope"]}, "Unknown approver level 'pope'"),
        ({"validity_months": 0}, "validity_months"),
    ],
)
def test_malformed_pc_rules_get_a_clear_error(overrides, expected):
    with pytest.raises(rules.RuleError) as raised:
        rules.parse_pc_rules(_pc_data(**overrides))
    assert expected in str(raised.value)


@pytest.mark.parametrize(("pc", "risk"), list(itertools.product(rules.PC_ORDER, rules.RISK_LEVELS)))
def test_acceptable_risk_for_every_pc_level_and_risk_level(pc, risk):
    assert rules.pc_rules().is_acceptable(pc, risk) is (pc in ALLOWED[risk])


@pytest.mark.parametrize("risk", rules.RISK_LEVELS)
def test_the_approver_each_risk_level_needs(risk):
    assert rules.pc_rules().required_approver(risk) == APPROVER[risk]


@pytest.mark.parametrize(
    ("authority", "required"),
    list(itertools.product(rules.pc_rules().approver_levels, repeat=2)),
)
def test_a_higher_authority_may_accept_a_lower_risk_never_the_reverse(authority, required):
    order = rules.pc_rules().approver_levels
    expected = order.index(authority) >= order.index(required)
    assert rules.pc_rules().may_accept(authority, required) is expected


def test_no_one_may_accept_what_needs_no_approver_or_without_authority():
    pc = rules.pc_rules()
    assert not pc.may_accept("executive_head", None)
    assert not pc.may_accept(None, "line_manager")


# ---------------------------------------------------------------------------- go / no-go


def accepted(pc, risk, *, assessment_id=7, approver=None, expires=datetime.date(2027, 1, 1)):
    return rules.Acceptance(
        assessment_id=assessment_id,
        pc_level=pc,
        residual_risk=risk,
        approver_level=approver or APPROVER[risk] or "executive_head",
        approved_by="paul",
        approved_on=datetime.date(2026, 1, 2),
        expires_on=expires,
    )


@pytest.mark.parametrize(("pc", "risk"), list(itertools.product(rules.PC_ORDER, rules.RISK_LEVELS)))
def test_decision_before_and_after_acceptance_for_every_pc_and_risk(pc, risk):
    before = rules.decide(
        pc_level=pc, residual_risk=risk, assessment_id=7, acceptance=None, today=TODAY
    )
    after = rules.decide(
        pc_level=pc,
        residual_risk=risk,
        assessment_id=7,
        acceptance=accepted(pc, risk),
        today=TODAY,
    )
    if pc in ALLOWED[risk]:
        assert before.decision == Decision.NEEDS_APPROVAL
        assert before.required_approver == APPROVER[risk]
        assert after.decision == Decision.GO
        assert after.expires_on == datetime.date(2027, 1, 1)
        assert after.codes == ["accepted"]
    else:
        assert before.decision == after.decision == Decision.NO_GO
        assert before.codes == (
            ["never_acceptable"] if risk == "unacceptable" else ["above_acceptable"]
        )
        assert before.required_approver is None
    assert before.reasons and after.reasons


def test_no_pc_level_or_no_approved_assessment_is_a_no_go():
    no_pc = rules.decide(
        pc_level=None, residual_risk="low", assessment_id=1, acceptance=None, today=TODAY
    )
    no_assessment = rules.decide(
        pc_level="PC1", residual_risk=None, assessment_id=None, acceptance=None, today=TODAY
    )
    assert (no_pc.decision, no_pc.codes) == (Decision.NO_GO, ["no_pc_level"])
    assert (no_assessment.decision, no_assessment.codes) == (Decision.NO_GO, ["no_assessment"])


def test_the_reason_of_a_no_go_says_what_the_pc_level_allows():
    outcome = rules.decide(
        pc_level="PC3", residual_risk="high", assessment_id=1, acceptance=None, today=TODAY
    )
    assert outcome.reasons == ["Residual risk High is above what PC3 allows (up to Medium)."]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"assessment_id": 8}, "new_assessment"),
        ({"residual_risk": "medium"}, "residual_risk_changed"),
        ({"pc_level": "PC2"}, "pc_level_changed"),
        ({"today": datetime.date(2027, 1, 1)}, "expired"),
    ],
)
def test_each_trigger_sends_an_accepted_activity_back_to_review(change, code):
    facts = {"pc_level": "PC1", "residual_risk": "high", "assessment_id": 7, "today": TODAY}
    acceptance = accepted("PC1", "high")
    assert rules.decide(**facts, acceptance=acceptance).decision == Decision.GO
    outcome = rules.decide(**(facts | change), acceptance=acceptance)
    assert outcome.decision == Decision.NEEDS_APPROVAL
    assert code in outcome.codes


def test_the_day_before_expiry_still_goes():
    outcome = rules.decide(
        pc_level="PC2",
        residual_risk="low",
        assessment_id=7,
        acceptance=accepted("PC2", "low", expires=datetime.date(2026, 6, 16)),
        today=TODAY,
    )
    assert outcome.decision == Decision.GO


def test_an_acceptance_at_a_lower_authority_than_needed_is_not_enough():
    outcome = rules.decide(
        pc_level="PC1",
        residual_risk="very_high",
        assessment_id=7,
        acceptance=accepted("PC1", "very_high", approver="designated_official"),
        today=TODAY,
    )
    assert outcome.decision == Decision.NEEDS_APPROVAL
    assert outcome.codes == ["approver_too_low"]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 6, 15), 12, datetime.date(2027, 6, 15)),
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2027, 12, 31), 2, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 11, 30), 3, datetime.date(2027, 2, 28)),
    ],
)
def test_add_months(day, months, expected):
    assert rules.add_months(day, months) == expected
