"""The incident taxonomies: one stable stored code and one translatable label per value.

Codes never change once data uses them; labels may. Crosswalks to public schemes
(AWSD, SiND, WHO SSA) live beside the formats that speak them, keyed by these codes.
The sources of each list are in ../shared/docs/domain.md §3, §5 and §9.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class Status(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("incident status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("incident status", "Submitted")
    ENDORSED = "endorsed", pgettext_lazy("incident status", "Endorsed")
    CLOSED = "closed", pgettext_lazy("incident status", "Closed")
    MERGED = "merged", pgettext_lazy("incident status", "Merged into another incident")


class Category(models.TextChoices):
    VIOLENCE = "violence", _("Violence")
    SAFETY = "safety", _("Safety")


class SubCategory(models.TextChoices):
    ARMED_CONFLICT = "armed_conflict", _("Armed conflict")
    TERRORISM = "terrorism", _("Terrorism")
    CRIME = "crime", _("Crime")
    CIVIL_UNREST = "civil_unrest", _("Civil unrest")
    VIOLENCE_UNKNOWN = "violence_unknown", _("Violence, threat unknown")
    ROAD_TRAFFIC = "road_traffic", _("Road traffic")
    AVIATION = "aviation", _("Aviation")
    FIRE = "fire", _("Fire")
    DROWNING = "drowning", _("Drowning")
    OCCUPATIONAL = "occupational", _("Occupational")
    NATURAL_HAZARD = "natural_hazard", _("Natural hazard")
    HEALTH = "health", _("Health")
    SAFETY_OTHER = "safety_other", _("Other safety")


SUBCATEGORIES_OF = {
    Category.VIOLENCE: [
        SubCategory.ARMED_CONFLICT,
        SubCategory.TERRORISM,
        SubCategory.CRIME,
        SubCategory.CIVIL_UNREST,
        SubCategory.VIOLENCE_UNKNOWN,
    ],
    Category.SAFETY: [
        SubCategory.ROAD_TRAFFIC,
        SubCategory.AVIATION,
        SubCategory.FIRE,
        SubCategory.DROWNING,
        SubCategory.OCCUPATIONAL,
        SubCategory.NATURAL_HAZARD,
        SubCategory.HEALTH,
        SubCategory.SAFETY_OTHER,
    ],
}
CATEGORY_OF = {sub: cat for cat, subs in SUBCATEGORIES_OF.items() for sub in subs}


class MeansOfAttack(models.TextChoices):
    AERIAL_BOMBARDMENT = "aerial_bombardment", _("Aerial bombardment")
    BODILY_ASSAULT = "bodily_assault", _("Bodily assault")
    SHELLING = "shelling", _("Shelling")
    BODY_BORNE_IED = "body_borne_ied", _("Body-borne IED")
    DETENTION_ARREST = "detention_arrest", _("Detention / arrest")
    COMPLEX_ATTACK = "complex_attack", _("Complex attack")
    ROADSIDE_IED = "roadside_ied", _("Roadside IED")
    VEHICLE_BORNE_IED = "vehicle_borne_ied", _("Vehicle-borne IED")
    OTHER_EXPLOSIVES = "other_explosives", _("Other explosives")
    KIDNAPPING = "kidnapping", _("Kidnapping")
    KIDNAP_KILLING = "kidnap_killing", _("Kidnap-killing")
    RAPE_SEXUAL_ASSAULT = "rape_sexual_assault", _("Rape or serious sexual assault")
    LANDMINE = "landmine", _("Landmine")
    SHOOTING = "shooting", _("Shooting")
    UNKNOWN = "unknown", _("Unknown")


class AttackContext(models.TextChoices):
    AMBUSH = "ambush", _("Ambush")
    COMBAT_CROSSFIRE = "combat_crossfire", _("Combat / crossfire")
    INDIVIDUAL_ATTACK = "individual_attack", _("Individual attack or assassination")
    MOB_VIOLENCE = "mob_violence", _("Mob violence")
    RAID = "raid", _("Raid")
    DETENTION = "detention", _("Detention")
    UNKNOWN = "unknown", _("Unknown")


class LocationType(models.TextChoices):
    HOME = "home", _("Home")
    OFFICE_COMPOUND = "office_compound", _("Office / compound")
    PROJECT_SITE = "project_site", _("Project site")
    PUBLIC_LOCATION = "public_location", _("Public location")
    ROAD = "road", _("Road")
    CUSTODY = "custody", _("Custody")
    UNKNOWN = "unknown", _("Unknown")


class Motive(models.TextChoices):
    POLITICAL = "political", _("Political")
    ECONOMIC = "economic", _("Economic")
    INCIDENTAL = "incidental", _("Incidental")
    DISPUTED = "disputed", _("Disputed")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class PerpetratorType(models.TextChoices):
    UNAFFILIATED = "unaffiliated", _("Unaffiliated individual")
    AID_RECIPIENT = "aid_recipient", _("Aid recipient")
    STAFF_MEMBER = "staff_member", _("Staff member")
    CRIMINAL = "criminal", _("Criminal")
    STATE_HOST = "state_host", _("State: host state")
    STATE_FOREIGN = "state_foreign", _("State: foreign or coalition forces")
    STATE_POLICE = "state_police", _("State: police or paramilitary")
    STATE_UNKNOWN = "state_unknown", _("State: unknown")
    NSAG_GLOBAL = "nsag_global", _("Non-state armed group: global")
    NSAG_REGIONAL = "nsag_regional", _("Non-state armed group: regional")
    NSAG_NATIONAL = "nsag_national", _("Non-state armed group: national")
    NSAG_SUBNATIONAL = "nsag_subnational", _("Non-state armed group: subnational")
    NSAG_UNKNOWN = "nsag_unknown", _("Non-state armed group: unknown")
    UNKNOWN = "unknown", _("Unknown")


class Verification(models.TextChoices):
    UNVERIFIED = "unverified", _("Not yet verified")
    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    ARCHIVED = "archived", _("Archived (historical, not re-verified)")


class CoordinatePrecision(models.TextChoices):
    EXACT = "exact", _("Exact (GPS)")
    PLACE = "place", _("Town or village")
    ADMIN2 = "admin2", _("District (admin 2)")
    ADMIN1 = "admin1", _("Province or region (admin 1)")
    COUNTRY = "country", _("Country")
    APPROXIMATE = "approximate", _("Approximate, precision unknown")


class CoordinateCheckStatus(models.TextChoices):
    NONE = "", _("No coordinates")
    INSIDE = "inside", _("Inside the country")
    NEAR_BORDER = "near_border", _("Near the country's border")
    OUTSIDE = "outside", _("Outside the stated country")
    UNCHECKED = "unchecked", _("Not checked (no polygon for this country)")
    REPAIRED = "repaired", _("Repaired on import")


class Impact(models.TextChoices):
    """What happened to a person. Listed from most to least severe (the counting order)."""

    KILLED = "killed", _("Killed")
    ABDUCTED = "abducted", _("Abducted / kidnapped")
    SEXUAL_ASSAULT = "sexual_assault", _("Sexual assault")
    INJURED = "injured", _("Injured")
    ARRESTED_DETAINED = "arrested_detained", _("Arrested / detained")
    MISSING = "missing", _("Missing")
    PHYSICAL_ASSAULT = "physical_assault", _("Physical assault")
    ROBBERY = "robbery", _("Robbery")
    BURGLARY = "burglary", _("Burglary / residential intrusion")
    INTIMIDATION_HARASSMENT = "intimidation_harassment", _("Intimidation / harassment")
    OTHER = "other", _("Other")


# Most severe first: a person counts once per incident, under the first impact listed here.
IMPACT_SEVERITY = list(Impact)


class Cause(models.TextChoices):
    VIOLENCE = "violence", _("Violence")
    SAFETY = "safety", _("Safety")


class Recruitment(models.TextChoices):
    INTERNATIONAL = "international", _("International")
    NATIONAL = "national", _("National")
    LOCALLY_RECRUITED = "locally_recruited", _("Locally recruited")
    UNKNOWN = "unknown", _("Unknown")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER_OR_UNKNOWN = "unknown", _("Other or unknown")


class AffectedOrgType(models.TextChoices):
    """The type of the affected person's organisation (AWSD's columns, finer for the UN)."""

    UN = "un", _("UN")
    INGO = "ingo", _("International NGO")
    ICRC = "icrc", _("ICRC")
    NRCS_IFRC = "nrcs_ifrc", _("National Red Cross / Red Crescent and IFRC")
    NNGO = "nngo", _("National NGO")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


# An organisation's own type (organisations.choices.OrganisationType) as the type of an
# affected person's organisation: the UN's Secretariat and its agencies are both "UN"; the
# Red Cross / Red Crescent Movement is counted with the national societies and the IFRC.
AFFECTED_TYPE_OF = {
    "un_secretariat": AffectedOrgType.UN,
    "un_afp": AffectedOrgType.UN,
    "ingo": AffectedOrgType.INGO,
    "nngo": AffectedOrgType.NNGO,
    "red_cross": AffectedOrgType.NRCS_IFRC,
    "government": AffectedOrgType.OTHER,
    "other": AffectedOrgType.OTHER,
}


class SourceKind(models.TextChoices):
    FOCAL_POINT = "focal_point", _("Focal point")
    MEDIA = "media", _("Media")
    OFFICIAL_REPORT = "official_report", _("Official report")
    DATABASE_IMPORT = "database_import", _("Database import")
    ACLED = "acled", _("ACLED")
    OTHER = "other", _("Other")


class ReportedTotalDimension(models.TextChoices):
    GENDER = "gender", _("Gender")
    ORGANISATION_TYPE = "organisation_type", _("Organisation type")


class VehicleOwner(models.TextChoices):
    UN = "un", _("UN")
    PARTNER = "partner", _("Partner organisation")
    THIRD_PARTY = "third_party", _("Third party")
    UNKNOWN = "unknown", _("Unknown")


class VehicleType(models.TextChoices):
    LIGHT = "light", _("Light vehicle (4×4, car)")
    ARMOURED = "armoured", _("Armoured vehicle")
    TRUCK = "truck", _("Truck")
    BUS = "bus", _("Bus or minibus")
    MOTORCYCLE = "motorcycle", _("Motorcycle")
    BICYCLE = "bicycle", _("Bicycle")
    PEDESTRIAN = "pedestrian", _("Pedestrian (no vehicle)")
    OTHER = "other", _("Other")


class DriverCategory(models.TextChoices):
    UN_DRIVER = "un_driver", _("Professional driver of the organisation")
    SELF_DRIVE = "self_drive", _("Staff member driving himself or herself")
    CONTRACTOR = "contractor", _("Contracted driver")
    THIRD_PARTY = "third_party", _("Third party")
    UNKNOWN = "unknown", _("Unknown")


class LightCondition(models.TextChoices):
    DAY = "day", _("Day")
    NIGHT = "night", _("Night")
    DUSK_DAWN = "dusk_dawn", _("Dusk or dawn")
    UNKNOWN = "unknown", _("Unknown")
