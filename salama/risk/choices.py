"""The risk vocabularies: one stable stored code and one translatable label per value.

The codes are those of domain.md §1.4, §2 and §9, lowest first; a matrix file must list them in
this order (checked on load). The tables built on them (risk matrix, PC table, acceptable-risk
rule, approvers) are data in ``salama/risk/data/``, read through :mod:`salama.risk.rules` and
never spelled out as ``if`` ladders.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Likelihood(models.TextChoices):
    VERY_UNLIKELY = "very_unlikely", _("Very unlikely")
    UNLIKELY = "unlikely", _("Unlikely")
    MODERATELY_LIKELY = "moderately_likely", _("Moderately likely")
    LIKELY = "likely", _("Likely")
    VERY_LIKELY = "very_likely", _("Very likely")


class Impact(models.TextChoices):
    NEGLIGIBLE = "negligible", _("Negligible")
    MINOR = "minor", _("Minor")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")
    CRITICAL = "critical", _("Critical")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    VERY_HIGH = "very_high", _("Very high")
    UNACCEPTABLE = "unacceptable", _("Unacceptable")


class ThreatCategory(models.TextChoices):
    ARMED_CONFLICT = "armed_conflict", _("Armed conflict")
    TERRORISM = "terrorism", _("Terrorism")
    CRIME = "crime", _("Crime")
    CIVIL_UNREST = "civil_unrest", _("Civil unrest")
    HAZARD = "hazard", _("Hazards")


class ThreatRating(models.IntegerChoices):
    """Intent, capability and inhibiting context of a threat category (SRM step 4a)."""

    VERY_LOW = 1, _("Very low")
    LOW = 2, _("Low")
    MEDIUM = 3, _("Medium")
    HIGH = 4, _("High")
    VERY_HIGH = 5, _("Very high")


class Strategy(models.TextChoices):
    ACCEPT = "accept", _("Accept")
    CONTROL = "control", _("Control")
    AVOID = "avoid", _("Avoid")
    TRANSFER = "transfer", _("Transfer")


class AreaKind(models.TextChoices):
    COUNTRY = "country", _("Country")
    ADMIN1 = "admin1", _("Provinces / regions (admin 1)")
    DUTY_STATION = "duty_station", _("Duty station")


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("assessment status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("assessment status", "Submitted")
    APPROVED = "approved", pgettext_lazy("assessment status", "Approved")
    SUPERSEDED = "superseded", pgettext_lazy("assessment status", "Superseded")


class MeasureKind(models.TextChoices):
    PREVENTIVE = "preventive", _("Preventive")
    MITIGATING = "mitigating", _("Mitigating")


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    IMPLEMENTED = "implemented", _("Implemented")
    DROPPED = "dropped", _("Dropped")


class PCLevel(models.TextChoices):
    PC1 = "PC1", _("PC1")
    PC2 = "PC2", _("PC2")
    PC3 = "PC3", _("PC3")
    PC4 = "PC4", _("PC4")


class Decision(models.TextChoices):
    GO = "go", _("Go")
    NEEDS_APPROVAL = "needs_approval", _("Needs approval")
    NO_GO = "no_go", _("No-go")


class ApproverLevel(models.TextChoices):
    """Who may accept a residual risk; the order and labels per risk level are data."""

    LINE_MANAGER = "line_manager", _("Line manager / agency representative")
    AGENCY_REPRESENTATIVE = "agency_representative", _("Agency representative (DO informed)")
    DESIGNATED_OFFICIAL = "designated_official", _("Designated Official (with SMT advice)")
    EXECUTIVE_HEAD = "executive_head", _("Executive head of the organisation")


class PremisesKind(models.TextChoices):
    OFFICE = "office", _("Office")
    RESIDENCE = "residence", _("Residence")
    WAREHOUSE = "warehouse", _("Warehouse")
    HEALTH_FACILITY = "health_facility", _("Health facility")


class ComplianceAnswer(models.TextChoices):
    YES = "yes", _("Compliant")
    NO = "no", _("Not compliant")
    NOT_APPLICABLE = "na", _("Not applicable")


class ActionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding status", "Open")
    DONE = "done", pgettext_lazy("finding status", "Done")
    CANCELLED = "cancelled", pgettext_lazy("finding status", "Cancelled")
