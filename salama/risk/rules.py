"""The rule tables of risk management as data, and the pure functions that apply them.

- the risk matrix (likelihood × impact → risk level), validated monotone;
- programme criticality: PC2–PC4 from contribution × likelihood of implementation, PC1 apart;
- the acceptable-risk rule (the highest residual risk each PC level may run at) and who must
  accept each residual risk level;
- :func:`decide`: go / needs approval / no-go for one activity in one area, with its reasons.

Every table is read from ``salama/risk/data/*.yaml`` (an organisation's own matrix from the
database, see ``RiskMatrix``); nothing here hard-codes a level. The functions are pure, so the
tests can walk every PC level × every risk level.
"""

import datetime
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import yaml
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from salama.risk.choices import ApproverLevel, Decision, Impact, Likelihood, PCLevel, RiskLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_MATRIX_FILE = DATA_DIR / "risk_matrix_default.yaml"
PC_FILE = DATA_DIR / "programme_criticality.yaml"
TREND_FILE = DATA_DIR / "trend.yaml"

LIKELIHOODS = tuple(Likelihood.values)
IMPACTS = tuple(Impact.values)
RISK_LEVELS = tuple(RiskLevel.values)
RISK_RANK = {level: i for i, level in enumerate(RISK_LEVELS)}


class RuleError(ValueError):
    """A rule table that cannot be used; ``problems`` names every offending entry."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def risk_rank(level: str) -> int:
    return RISK_RANK[level]


def label(choices, code) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code)


# ------------------------------------------------------------------------------- risk matrix


@dataclass(frozen=True)
class Matrix:
    """A validated 5 × 5 risk matrix: ``cells[(likelihood, impact)]`` is a risk level code."""

    version: str
    name: str
    cells: dict = field(hash=False)

    def level(self, likelihood: str, impact: str) -> str:
        try:
            return self.cells[(likelihood, impact)]
        except KeyError:
            raise ValueError(
                _("No risk level for likelihood %(l)r and impact %(i)r.")
                % {"l": likelihood, "i": impact}
            ) from None

    def to_data(self) -> dict:
        """The file shape (what :func:`parse_matrix` reads), for storing and exporting."""
        return {
            "version": self.version,
            "name": self.name,
            "likelihood": list(LIKELIHOODS),
            "impact": list(IMPACTS),
            "risk_levels": list(RISK_LEVELS),
            "cells": {lk: [self.cells[(lk, im)] for im in IMPACTS] for lk in reversed(LIKELIHOODS)},
        }


def _cell_name(likelihood: str, impact: str) -> str:
    return f"{label(Likelihood, likelihood)} × {label(Impact, impact)}"


def parse_matrix(data) -> Matrix:
    """A :class:`Matrix` from the file shape, or :class:`RuleError` naming every bad cell.

    Checked: a version and the three scales in the fixed order of ``choices``; every cell
    present and a known risk level; monotone — a cell's risk never falls when likelihood or
    impact rises (domain.md §1.4).
    """
    if not isinstance(data, dict):
        raise RuleError([_("The matrix file must be a mapping (version, name, cells …).")])
    problems = []
    version = data.get("version")
    if not isinstance(version, str | int | float) or not str(version).strip():
        problems.append(_("The matrix has no version."))
    for key, expected in (
        ("likelihood", LIKELIHOODS),
        ("impact", IMPACTS),
        ("risk_levels", RISK_LEVELS),
    ):
        given = data.get(key, list(expected))
        if list(given or []) != list(expected):
            problems.append(
                _("%(key)s must list %(expected)s, lowest first; found %(given)s.")
                % {"key": key, "expected": ", ".join(expected), "given": given}
            )
    rows = data.get("cells")
    cells = {}
    if not isinstance(rows, dict):
        problems.append(_("The matrix has no cells (one row per likelihood)."))
        rows = {}
    for unknown in sorted(set(map(str, rows)) - set(LIKELIHOODS)):
        problems.append(_("Unknown likelihood row %(row)r.") % {"row": unknown})
    for lk in LIKELIHOODS:
        row = rows.get(lk)
        if not isinstance(row, list) or len(row) != len(IMPACTS):
            problems.append(
                ngettext(
                    "Row %(row)r must have %(n)d risk level, one per impact.",
                    "Row %(row)r must have %(n)d risk levels, one per impact.",
                    len(IMPACTS),
                )
                % {"row": lk, "n": len(IMPACTS)}
            )
            continue
        for im, level in zip(IMPACTS, row, strict=True):
            if level not in RISK_RANK:
                problems.append(
                    _("%(cell)s: unknown risk level %(level)r.")
                    % {"cell": _cell_name(lk, im), "level": level}
                )
            else:
                cells[(lk, im)] = level
    if problems:
        raise RuleError(problems)
    problems = monotone_problems(cells)
    if problems:
        raise RuleError(problems)
    return Matrix(str(version).strip(), str(data.get("name") or version), cells)


# One whole sentence for each direction, so that "likelihood" and "impact" are translated in
# their sentence (their gender and case depend on it), not as words slotted into it.
_LIKELIHOOD_RISES = gettext_noop(
    "Not monotone: %(high)s is %(there)s, lower than %(low)s (%(here)s); "
    "risk may not fall when likelihood rises."
)
_IMPACT_RISES = gettext_noop(
    "Not monotone: %(high)s is %(there)s, lower than %(low)s (%(here)s); "
    "risk may not fall when impact rises."
)


def monotone_problems(cells: dict) -> list[str]:
    """Every pair of neighbouring cells where risk falls as likelihood or impact rises."""
    problems = []
    for li, lk in enumerate(LIKELIHOODS):
        for ii, im in enumerate(IMPACTS):
            here = cells[(lk, im)]
            neighbours = []
            if li + 1 < len(LIKELIHOODS):
                neighbours.append((LIKELIHOODS[li + 1], im, _LIKELIHOOD_RISES))
            if ii + 1 < len(IMPACTS):
                neighbours.append((lk, IMPACTS[ii + 1], _IMPACT_RISES))
            for nlk, nim, message in neighbours:
                there = cells[(nlk, nim)]
                if RISK_RANK[there] < RISK_RANK[here]:
                    problems.append(
                        _(message)
                        % {
                            "high": _cell_name(nlk, nim),
                            "there": label(RiskLevel, there),
                            "low": _cell_name(lk, im),
                            "here": label(RiskLevel, here),
                        }
                    )
    return problems


def read_yaml(path: Path):
    """A YAML file's content, or :class:`RuleError` saying where it is malformed."""
    try:
        with Path(path).open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as error:
        raise RuleError(
            [_("Cannot read %(path)s: %(error)s") % {"path": path, "error": error}]
        ) from None
    except yaml.YAMLError as error:
        raise RuleError(
            [_("%(path)s is not valid YAML or JSON: %(error)s") % {"path": path, "error": error}]
        ) from None


@cache
def default_matrix() -> Matrix:
    return parse_matrix(read_yaml(DEFAULT_MATRIX_FILE))


# ------------------------------------------------------------------- programme criticality


@dataclass(frozen=True)
class PCRules:
    """Programme criticality and acceptable risk (domain.md §2), validated."""

    version: str
    pc_table: dict = field(hash=False)  # (contribution, likelihood) → PC2..PC4
    max_acceptable: dict = field(hash=False)  # PC → highest acceptable residual risk
    never_acceptable: frozenset
    approver_levels: tuple  # lowest authority first
    approver_for: dict = field(hash=False)  # residual risk → approver level
    validity_months: int

    def pc_level(self, *, pc1: bool, contribution: int | None, likelihood: int | None):
        """PC1 when the separate PC1 test says so; else the table; None if not rated."""
        if pc1:
            return PCLevel.PC1.value
        if contribution is None or likelihood is None:
            return None
        return self.pc_table[(int(contribution), int(likelihood))]

    def is_acceptable(self, pc: str, residual: str) -> bool:
        if residual in self.never_acceptable:
            return False
        return RISK_RANK[residual] <= RISK_RANK[self.max_acceptable[pc]]

    def required_approver(self, residual: str) -> str | None:
        """Who must accept ``residual``; None when no one may (Unacceptable)."""
        if residual in self.never_acceptable:
            return None
        return self.approver_for[residual]

    def approver_rank(self, level: str) -> int:
        return self.approver_levels.index(level)

    def may_accept(self, authority: str | None, required: str | None) -> bool:
        """A person designated at ``authority`` may accept a risk that needs ``required``."""
        if authority is None or required is None:
            return False
        return self.approver_rank(authority) >= self.approver_rank(required)


PC_ORDER = tuple(PCLevel.values)  # most critical first
SCALE = (1, 2, 3, 4)


def parse_pc_rules(data) -> PCRules:
    """:class:`PCRules` from the file shape, or :class:`RuleError` naming every bad entry.

    Checked: a complete 4 × 4 PC table of PC2–PC4 that never gets *less* critical as
    contribution or likelihood rises; a maximum acceptable risk per PC level that never rises
    as criticality falls; an approver for every acceptable risk level.
    """
    problems = []
    if not isinstance(data, dict):
        raise RuleError([_("The programme-criticality file must be a mapping.")])
    table = {}
    rows = data.get("pc_table") or {}
    for contribution in SCALE:
        row = rows.get(contribution, rows.get(str(contribution)))
        if not isinstance(row, list) or len(row) != len(SCALE):
            problems.append(
                _("pc_table row %(c)s must give a PC level for likelihood 1 to 4.")
                % {"c": contribution}
            )
            continue
        for likelihood, pc in zip(SCALE, row, strict=True):
            if pc not in PC_ORDER[1:]:
                problems.append(
                    _("pc_table %(c)s × %(l)s: %(pc)r is not PC2, PC3 or PC4.")
                    % {"c": contribution, "l": likelihood, "pc": pc}
                )
            else:
                table[(contribution, likelihood)] = pc
    if not problems:
        for (contribution, likelihood), pc in table.items():
            for higher in ((contribution + 1, likelihood), (contribution, likelihood + 1)):
                if higher in table and PC_ORDER.index(table[higher]) > PC_ORDER.index(pc):
                    problems.append(
                        _(
                            "Not monotone: pc_table %(hc)s × %(hl)s is %(hpc)s, less critical "
                            "than %(c)s × %(l)s (%(pc)s)."
                        )
                        % {
                            "hc": higher[0],
                            "hl": higher[1],
                            "hpc": table[higher],
                            "c": contribution,
                            "l": likelihood,
                            "pc": pc,
                        }
                    )
    max_acceptable = data.get("max_acceptable") or {}
    for pc in PC_ORDER:
        if max_acceptable.get(pc) not in RISK_RANK:
            problems.append(_("max_acceptable has no risk level for %(pc)s.") % {"pc": pc})
    never = frozenset(data.get("never_acceptable") or ())
    if not problems:
        ranks = [RISK_RANK[max_acceptable[pc]] for pc in PC_ORDER]
        if ranks != sorted(ranks, reverse=True):
            problems.append(
                _("max_acceptable must not rise as criticality falls (PC1 ≥ PC2 ≥ PC3 ≥ PC4).")
            )
    levels = tuple(data.get("approver_levels") or ())
    for level in levels:
        if level not in ApproverLevel.values:
            problems.append(_("Unknown approver level %(l)r.") % {"l": level})
    approver_for = data.get("approver_for") or {}
    for level in RISK_LEVELS:
        if level in never:
            continue
        if approver_for.get(level) not in levels:
            problems.append(_("approver_for has no approver for %(l)s.") % {"l": level})
    validity = data.get("validity_months")
    if not isinstance(validity, int) or validity < 1:
        problems.append(_("validity_months must be a whole number of months, 1 or more."))
    if problems:
        raise RuleError(problems)
    return PCRules(
        version=str(data.get("version", "")),
        pc_table=table,
        max_acceptable={pc: max_acceptable[pc] for pc in PC_ORDER},
        never_acceptable=never,
        approver_levels=levels,
        approver_for={k: v for k, v in approver_for.items() if k not in never},
        validity_months=validity,
    )


@cache
def pc_rules() -> PCRules:
    return parse_pc_rules(read_yaml(PC_FILE))


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------ go / no-go


@dataclass(frozen=True)
class Acceptance:
    """What an approval recorded: the facts it was given under, and until when."""

    assessment_id: int
    pc_level: str
    residual_risk: str
    approver_level: str
    approved_by: str
    approved_on: datetime.date
    expires_on: datetime.date


@dataclass
class Outcome:
    """The go / no-go for one activity in one area, with every reason behind it.

    ``codes`` say why in stable words (for JSON and tests); ``reasons`` says it in the reader's
    language, and is only built when read: a matrix page weighs thousands of pairs and shows
    none of their reasons.
    """

    decision: str
    codes: list[str]
    required_approver: str | None = None
    expires_on: datetime.date | None = None
    pc_level: str | None = None
    residual_risk: str | None = None
    acceptance: Acceptance | None = None
    rules: "PCRules | None" = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return label(Decision, self.decision)

    @cached_property
    def reasons(self) -> list[str]:
        return reasons_for(self)


NO_GO_CODES = ("no_pc_level", "no_assessment", "never_acceptable", "above_acceptable")


def decide(
    *,
    pc_level: str | None,
    residual_risk: str | None,
    assessment_id: int | None,
    acceptance: Acceptance | None,
    today: datetime.date,
    rules: PCRules | None = None,
) -> Outcome:
    """Go, needs approval or no-go for an activity at ``pc_level`` in an area whose current
    approved assessment (``assessment_id``) puts the residual risk at ``residual_risk``.

    - no PC level or no approved assessment: no-go (nothing to weigh);
    - residual risk above what the PC level allows, or never acceptable: no-go;
    - acceptable: needs approval by the approver the risk level requires, until an acceptance
      is recorded; it then goes, until the acceptance expires or a trigger sends it back:
      a new assessment approved for the area, a changed residual risk or PC level.
    """
    rules = rules or pc_rules()
    facts = {"pc_level": pc_level, "residual_risk": residual_risk, "rules": rules}
    if pc_level is None:
        return Outcome(Decision.NO_GO, ["no_pc_level"], **facts)
    if residual_risk is None:
        return Outcome(Decision.NO_GO, ["no_assessment"], **facts)
    if residual_risk in rules.never_acceptable:
        return Outcome(Decision.NO_GO, ["never_acceptable"], **facts)
    if not rules.is_acceptable(pc_level, residual_risk):
        return Outcome(Decision.NO_GO, ["above_acceptable"], **facts)
    required = rules.required_approver(residual_risk)
    facts["required_approver"] = required
    if acceptance is None:
        return Outcome(Decision.NEEDS_APPROVAL, ["not_approved"], **facts)
    facts["acceptance"] = acceptance
    codes = []
    if acceptance.assessment_id != assessment_id:
        codes.append("new_assessment")
    if acceptance.residual_risk != residual_risk:
        codes.append("residual_risk_changed")
    if acceptance.pc_level != pc_level:
        codes.append("pc_level_changed")
    if today >= acceptance.expires_on:
        codes.append("expired")
    if not rules.may_accept(acceptance.approver_level, required):
        codes.append("approver_too_low")
    if codes:
        return Outcome(Decision.NEEDS_APPROVAL, codes, **facts)
    return Outcome(Decision.GO, ["accepted"], expires_on=acceptance.expires_on, **facts)


def reasons_for(outcome: Outcome) -> list[str]:
    """The reasons of an outcome, in the reader's language."""
    rules = outcome.rules or pc_rules()
    pc, risk = outcome.pc_level, outcome.residual_risk
    values = {
        "risk": label(RiskLevel, risk) if risk else "",
        "pc": pc,
        "max": label(RiskLevel, rules.max_acceptable[pc]) if pc else "",
        "approver": label(ApproverLevel, outcome.required_approver)
        if outcome.required_approver
        else "",
    }
    accepted = outcome.acceptance
    messages = {
        "no_pc_level": lambda: _(
            "No programme criticality level has been set for this activity here."
        ),
        "no_assessment": lambda: _("There is no approved security risk assessment for this area."),
        "never_acceptable": lambda: (
            _("Residual risk is %(risk)s: no activity may go ahead at this level.") % values
        ),
        "above_acceptable": lambda: (
            _("Residual risk %(risk)s is above what %(pc)s allows (up to %(max)s).") % values
        ),
        "not_approved": lambda: _("Not yet accepted; needs: %(approver)s.") % values,
        "new_assessment": lambda: _(
            "A new assessment has been approved for the area since the acceptance."
        ),
        "residual_risk_changed": lambda: (
            _("Residual risk changed from %(old)s to %(risk)s since the acceptance.")
            % {**values, "old": label(RiskLevel, accepted.residual_risk)}
        ),
        "pc_level_changed": lambda: (
            _("PC level changed from %(old)s to %(pc)s since the acceptance.")
            % {**values, "old": accepted.pc_level}
        ),
        "expired": lambda: (
            _("The acceptance expired on %(day)s.") % {"day": accepted.expires_on.isoformat()}
        ),
        "approver_too_low": lambda: (
            _("The acceptance was given at a lower authority than %(approver)s.") % values
        ),
        "accepted": lambda: (
            _("Accepted by %(who)s on %(on)s, valid until %(until)s.")
            % {
                "who": accepted.approved_by,
                "on": accepted.approved_on.isoformat(),
                "until": accepted.expires_on.isoformat(),
            }
        ),
    }
    reasons = [messages[code]() for code in outcome.codes]
    if outcome.decision != Decision.NO_GO:
        acceptable = _("%(pc)s may run at residual risk %(risk)s (up to %(max)s).") % values
        reasons.insert(0, acceptable)
    if outcome.decision == Decision.NEEDS_APPROVAL and outcome.codes != ["not_approved"]:
        reasons.append(_("Review needed; needs: %(approver)s.") % values)
    return reasons


# ----------------------------------------------------------------------------- trend rules


@dataclass(frozen=True)
class TrendRules:
    threat_category_of: dict = field(hash=False)
    recent_days: int
    quarter_days: int
    contradictions: tuple  # ((likelihoods…), min_incidents)

    def contradiction_threshold(self, likelihood: str) -> int | None:
        for likelihoods, minimum in self.contradictions:
            if likelihood in likelihoods:
                return minimum
        return None


@cache
def trend_rules() -> TrendRules:
    data = read_yaml(TREND_FILE)
    return TrendRules(
        threat_category_of=dict(data["threat_category_of"]),
        recent_days=int(data["recent_days"]),
        quarter_days=int(data["quarter_days"]),
        contradictions=tuple(
            (tuple(rule["likelihoods"]), int(rule["min_incidents"]))
            for rule in data["contradictions"]
        ),
    )
