"""The registry's taxonomies (domain.md §8.2): stable stored codes, translatable labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CaseStatus(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("case status", "Proposed")
    OPEN = "open", pgettext_lazy("case status", "Open")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")
    DECLINED = "declined", pgettext_lazy("case status", "Declined")


ACTIVE_STATUSES = (CaseStatus.OPEN,)


class Offence(models.TextChoices):
    KILLING = "killing", _("Killing")
    SERIOUS_INJURY = "serious_injury", _("Serious injury")
    SEXUAL_ASSAULT = "sexual_assault", _("Sexual assault")
    ABDUCTION = "abduction", _("Abduction / hostage-taking")
    ARREST_DETENTION = "arrest_detention", _("Arbitrary arrest or detention")
    OTHER = "other", _("Other serious crime")


class Channel(models.TextChoices):
    NOTE_VERBALE = "note_verbale", _("Note verbale")
    MEETING = "meeting", _("Meeting")
    LETTER = "letter", _("Letter")
    OTHER = "other", _("Other")


class Authority(models.TextChoices):
    FOREIGN_AFFAIRS = "mfa", _("Ministry of foreign affairs")
    POLICE = "police", _("Police")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    DE_FACTO = "de_facto", _("De facto authority")


class Stage(models.TextChoices):
    """Justice milestones in their order; the last four are outcomes (terminal)."""

    REPORTED = "reported", _("Reported to the authorities")
    INVESTIGATION = "investigation", _("Investigation opened")
    SUSPECT = "suspect", _("Suspect identified")
    ARREST = "arrest", _("Arrest made")
    CHARGED = "charged", _("Charged")
    TRIAL = "trial", _("Trial")
    CONVICTED = "convicted", _("Convicted")
    ACQUITTED = "acquitted", _("Acquitted")
    CLOSED_NO_ACTION = "closed_no_action", _("Closed without action")
    NO_INFORMATION = "no_information", _("No information")


STAGE_RANK = {
    Stage.REPORTED: 1,
    Stage.INVESTIGATION: 2,
    Stage.SUSPECT: 3,
    Stage.ARREST: 4,
    Stage.CHARGED: 5,
    Stage.TRIAL: 6,
    Stage.CONVICTED: 7,
    Stage.ACQUITTED: 7,
    Stage.CLOSED_NO_ACTION: 7,
    Stage.NO_INFORMATION: 7,
}
TERMINAL_STAGES = {Stage.CONVICTED, Stage.ACQUITTED, Stage.CLOSED_NO_ACTION, Stage.NO_INFORMATION}
# What each accountability figure counts as "reached" (an outcome implies the steps before it).
REACHED_INVESTIGATION = {
    Stage.INVESTIGATION,
    Stage.SUSPECT,
    Stage.ARREST,
    Stage.CHARGED,
    Stage.TRIAL,
    Stage.CONVICTED,
    Stage.ACQUITTED,
}
REACHED_CHARGE = {Stage.CHARGED, Stage.TRIAL, Stage.CONVICTED, Stage.ACQUITTED}
# Milestones of a sexual-violence case that need the survivor's consent to legal proceedings
# (from the charge onward: charge, trial, verdicts), beyond the consent to the authorities
# that every milestone needs.
NEEDS_LEGAL_CONSENT = frozenset(REACHED_CHARGE)


class DetainingAuthority(models.TextChoices):
    STATE = "state", _("State")
    DE_FACTO = "de_facto", _("De facto authority")
    NON_STATE = "non_state", _("Non-state actor")


class AbductorType(models.TextChoices):
    CRIMINAL = "criminal", _("Criminal group")
    NSAG = "nsag", _("Non-state armed group")
    UNKNOWN = "unknown", _("Unknown")


class AbductionOutcome(models.TextChoices):
    RELEASED = "released", pgettext_lazy("abduction outcome", "Released")
    RESCUED = "rescued", pgettext_lazy("abduction outcome", "Rescued")
    ESCAPED = "escaped", pgettext_lazy("abduction outcome", "Escaped")
    KILLED = "killed", pgettext_lazy("abduction outcome", "Killed")
    UNRESOLVED = "unresolved", pgettext_lazy("abduction outcome", "Unresolved")


class ConsentUse(models.TextChoices):
    """Uses of a sexual-violence survivor's case that need the survivor's consent."""

    AUTHORITIES = "authorities", _("Report to and follow up with the authorities")
    STATISTICS = "statistics", _("Count in anonymous statistics")
    REFERRAL = "referral", _("Referral to medical or psychosocial support")
    LEGAL = "legal", _("Legal proceedings")
    SHARING = "sharing", _("Share within the organisation beyond the named officers")


# What each consent allows in Salama, shown beside it on the case page. Referral is recorded
# only: the referral itself happens outside Salama.
CONSENT_GATES = {
    ConsentUse.AUTHORITIES: _("Needed to log follow-up and record justice milestones."),
    ConsentUse.STATISTICS: _("Needed to count the case in the accountability figures."),
    ConsentUse.REFERRAL: _("Recorded for the officers; Salama does not refer anyone."),
    ConsentUse.LEGAL: _("Needed to record a charge, a trial or a verdict."),
    ConsentUse.SHARING: _("Needed to name another case officer on the case."),
}


class DocumentKind(models.TextChoices):
    PDF = "pdf", "PDF"
    PNG = "png", "PNG"
    JPEG = "jpeg", "JPEG"
    DOCX = "docx", "Word (DOCX)"
    XLSX = "xlsx", "Excel (XLSX)"
    TEXT = "text", _("Plain text")
