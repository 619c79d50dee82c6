from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationType(models.TextChoices):
    UN_SECRETARIAT = "un_secretariat", _("UN Secretariat")
    UN_AFP = "un_afp", _("UN agency, fund or programme")
    INGO = "ingo", _("International NGO")
    NNGO = "nngo", _("National or local NGO")
    RED_CROSS = "red_cross", _("Red Cross / Red Crescent")
    GOVERNMENT = "government", _("Government")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    REPORTER = "reporter", _("Reporter")
    ENDORSER = "endorser", _("Endorser")
    ANALYST = "analyst", _("Analyst")
    CASE_OFFICER = "case_officer", _("Case officer")
    APPROVER = "approver", _("Approver")
    ORG_ADMIN = "org_admin", _("Organisation admin")
