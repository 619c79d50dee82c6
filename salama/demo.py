"""The demo instance behind ``make demo``: organisations, a login per role, the AWSD data set and
a few hand-made incidents at every workflow status and marking.

``salama demo`` runs :func:`load`. Running it again changes nothing: every object is found by a
stable key (acronym, username, the ``demo`` source reference, the AWSD file's SHA-256) before
it is created. The demo password is public, so the command refuses to run when DEBUG is false
unless forced.

It lives here, above the apps, because it touches all of them (``incidents`` may not import
``interchange``); ``salama/interchange/management/commands/demo.py`` only makes it a command.
"""

import datetime
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents import services
from salama.incidents.models import Source
from salama.organisations.choices import OrganisationType, Role
from salama.organisations.models import Membership, Organisation

# Public on purpose: the command prints it. Hence DEBUG only (see the command).
PASSWORD = "salama-demo-password"  # noqa: S105
URL = "http://127.0.0.1:8000"
AWSD_DIR = settings.BASE_DIR / "interchange" / "data" / "awsd"
# The current layout only: the old-layout file holds the same incidents (same Incident IDs) with
# older values, so importing both would make each run update one with the other.
AWSD_FILES = (AWSD_DIR / "awsd_1997-2022.csv",)
DEMO_SYSTEM = "demo"

ORGANISATIONS = (
    ("UNDEMO", "Demo UN agency", OrganisationType.UN_AFP),
    ("DEMO-NGO", "Demo international NGO", OrganisationType.INGO),
    ("DEMO-NNGO", "Demo national NGO", OrganisationType.NNGO),
)
# (username, organisation, roles, who they are)
USERS = (
    ("reporter", "UNDEMO", (Role.REPORTER,), "reports incidents for the demo UN agency"),
    ("endorser", "UNDEMO", (Role.ENDORSER,), "endorses what the reporter submits"),
    ("analyst", "UNDEMO", (Role.ANALYST,), "reads and analyses incidents"),
    ("case_officer", "UNDEMO", (Role.CASE_OFFICER,), "follows up cases"),
    ("approver", "UNDEMO", (Role.APPROVER,), "approves programme-criticality decisions"),
    ("org_admin", "UNDEMO", (Role.ORG_ADMIN,), "manages the agency's members"),
    ("ngo_analyst", "DEMO-NGO", (Role.ANALYST,), "another organisation: GREEN, AMBER redacted"),
    ("ngo_admin", "DEMO-NGO", (Role.ORG_ADMIN,), "the NGO's admin: answers sharing agreements"),
)
SUPERUSER = "admin"


def _person(impact, recruitment=c.Recruitment.NATIONAL, gender=c.Gender.MALE, **extra) -> dict:
    cause = c.Cause.SAFETY if extra.pop("safety", False) else c.Cause.VIOLENCE
    return {"impact": impact, "cause": cause, "recruitment": recruitment, "gender": gender} | extra


# Hand-made incidents of UNDEMO: (key, status, fields, persons, road crash, named recipients).
# Every status (draft, submitted, endorsed, closed) and marking (GREEN, AMBER, RED) appears.
INCIDENTS = (
    (
        "demo-01",
        c.Status.ENDORSED,
        {
            "date": datetime.date(2024, 3, 14),
            "time": datetime.time(7, 40),
            "country": "SS",
            "admin1": "Central Equatoria",
            "place": "Juba",
            "latitude": 4.85,
            "longitude": 31.6,
            "coordinate_precision": c.CoordinatePrecision.PLACE,
            "location_type": c.LocationType.ROAD,
            "category": c.Category.VIOLENCE,
            "subcategory": c.SubCategory.CRIME,
            "means_of_attack": c.MeansOfAttack.SHOOTING,
            "attack_context": c.AttackContext.AMBUSH,
            "perpetrator_type": c.PerpetratorType.CRIMINAL,
            "motive": c.Motive.ECONOMIC,
            "vehicles_hit": True,
            "narrative": (
                "Armed men stopped a clearly marked vehicle on the Juba–Nimule road and fired "
                "at it when the driver drove on. The driver was hit in the arm."
            ),
            "marking": TLP.GREEN,
        },
        [_person(c.Impact.INJURED, on_duty=True)],
        None,
        (),
    ),
    (
        "demo-02",
        c.Status.ENDORSED,
        {
            "date": datetime.date(2024, 2, 1),
            "date_precision": c.DatePrecision.MONTH,
            "country": "SO",
            "admin1": "Banadir",
            "place": "Mogadishu",
            "latitude": 2.0469,
            "longitude": 45.3182,
            "coordinate_precision": c.CoordinatePrecision.PLACE,
            "location_type": c.LocationType.PUBLIC_LOCATION,
            "category": c.Category.VIOLENCE,
            "subcategory": c.SubCategory.TERRORISM,
            "means_of_attack": c.MeansOfAttack.VEHICLE_BORNE_IED,
            "perpetrator_type": c.PerpetratorType.NSAG_REGIONAL,
            "perpetrator_name": "Al Shabaab",
            "motive": c.Motive.POLITICAL,
            "narrative": (
                "A car bomb exploded near a hotel in Mogadishu used for meetings with partners. "
                "One national staff member was killed; an international colleague was wounded."
            ),
            "marking": TLP.AMBER,
        },
        [
            _person(c.Impact.KILLED, on_duty=True),
            _person(c.Impact.INJURED, c.Recruitment.INTERNATIONAL, c.Gender.FEMALE, on_duty=True),
        ],
        None,
        (),
    ),
    (
        "demo-03",
        c.Status.ENDORSED,
        {
            "date": datetime.date(2024, 5, 22),
            "country": "AF",
            "admin1": "Kabul",
            "place": "Kabul",
            "latitude": 34.5553,
            "longitude": 69.2075,
            "coordinate_precision": c.CoordinatePrecision.PLACE,
            "location_type": c.LocationType.ROAD,
            "category": c.Category.SAFETY,
            "subcategory": c.SubCategory.ROAD_TRAFFIC,
            "vehicles_hit": True,
            "narrative": (
                "A minibus crossed into the lane of an agency 4×4 on the Kabul–Jalalabad road. "
                "Two staff members were injured; seatbelts were worn."
            ),
            "marking": TLP.GREEN,
        },
        [_person(c.Impact.INJURED, safety=True, on_duty=True, count=2)],
        {
            "vehicle_owner": c.VehicleOwner.UN,
            "vehicle_type": c.VehicleType.LIGHT,
            "driver_category": c.DriverCategory.UN_DRIVER,
            "seatbelt_worn": True,
            "speed_related": False,
            "light_condition": c.LightCondition.DAY,
            "third_party_slightly_injured": 3,
        },
        (),
    ),
    (
        "demo-04",
        c.Status.SUBMITTED,
        {
            "date": datetime.date(2024, 6, 9),
            "country": "CF",
            "admin1": "Bangui",
            "place": "Bangui",
            "latitude": 4.3947,
            "longitude": 18.5582,
            "coordinate_precision": c.CoordinatePrecision.PLACE,
            "location_type": c.LocationType.HOME,
            "category": c.Category.VIOLENCE,
            "subcategory": c.SubCategory.CRIME,
            "means_of_attack": c.MeansOfAttack.BODILY_ASSAULT,
            "perpetrator_type": c.PerpetratorType.CRIMINAL,
            "motive": c.Motive.ECONOMIC,
            "premises_hit": True,
            "narrative": (
                "Three armed men entered a staff guesthouse in Bangui at night, threatened the "
                "guard and took phones, laptops and cash."
            ),
            "marking": TLP.GREEN,
        },
        [_person(c.Impact.ROBBERY, c.Recruitment.INTERNATIONAL, c.Gender.FEMALE, on_duty=False)],
        None,
        (),
    ),
    (
        "demo-05",
        c.Status.SUBMITTED,
        {
            "date": datetime.date(2024, 7, 2),
            "country": "CD",
            "admin1": "North Kivu",
            "place": "Goma",
            "latitude": -1.6792,
            "longitude": 29.2228,
            "coordinate_precision": c.CoordinatePrecision.PLACE,
            "location_type": c.LocationType.ROAD,
            "category": c.Category.VIOLENCE,
            "subcategory": c.SubCategory.ARMED_CONFLICT,
            "means_of_attack": c.MeansOfAttack.KIDNAPPING,
            "attack_context": c.AttackContext.AMBUSH,
            "perpetrator_type": c.PerpetratorType.NSAG_UNKNOWN,
            "narrative": (
                "Two national staff members were taken from their vehicle north of Goma. "
                "Contact with the abductors is handled by the crisis cell only."
            ),
            "marking": TLP.RED,
        },
        [_person(c.Impact.ABDUCTED, count=2, on_duty=True)],
        None,
        ("case_officer",),
    ),
    (
        "demo-06",
        c.Status.DRAFT,
        {
            "date": datetime.date(2024, 8, 19),
            "country": "NG",
            "admin1": "Borno",
            "place": "Maiduguri",
            "latitude": 11.8311,
            "longitude": 13.151,
            "coordinate_precision": c.CoordinatePrecision.PLACE,
            "location_type": c.LocationType.CUSTODY,
            "category": c.Category.VIOLENCE,
            "subcategory": c.SubCategory.VIOLENCE_UNKNOWN,
            "means_of_attack": c.MeansOfAttack.DETENTION_ARREST,
            "attack_context": c.AttackContext.DETENTION,
            "perpetrator_type": c.PerpetratorType.STATE_POLICE,
            "narrative": (
                "A national staff member was arrested at a checkpoint in Maiduguri and held "
                "for two days without charge. Draft: the legal office is checking the facts."
            ),
            "marking": TLP.AMBER,
        },
        [_person(c.Impact.ARRESTED_DETAINED, on_duty=True)],
        None,
        (),
    ),
    (
        "demo-07",
        c.Status.DRAFT,
        {
            "date": datetime.date(2024, 9, 3),
            "country": "HT",
            "admin1": "Ouest",
            "place": "Port-au-Prince",
            "latitude": 18.5944,
            "longitude": -72.3074,
            "coordinate_precision": c.CoordinatePrecision.PLACE,
            "location_type": c.LocationType.ROAD,
            "category": c.Category.VIOLENCE,
            "subcategory": c.SubCategory.CIVIL_UNREST,
            "attack_context": c.AttackContext.MOB_VIOLENCE,
            "narrative": (
                "A crowd at a roadblock in Port-au-Prince surrounded a convoy and threatened "
                "the drivers until they paid to pass."
            ),
            "marking": TLP.GREEN,
        },
        [_person(c.Impact.INTIMIDATION_HARASSMENT, count=2, on_duty=True)],
        None,
        (),
    ),
    (
        "demo-08",
        c.Status.CLOSED,
        {
            "date": datetime.date(2023, 11, 30),
            "country": "UA",
            "admin1": "Kharkiv",
            "place": "Kharkiv",
            "latitude": 49.9935,
            "longitude": 36.2304,
            "coordinate_precision": c.CoordinatePrecision.PLACE,
            "location_type": c.LocationType.OFFICE_COMPOUND,
            "category": c.Category.VIOLENCE,
            "subcategory": c.SubCategory.ARMED_CONFLICT,
            "means_of_attack": c.MeansOfAttack.SHELLING,
            "attack_context": c.AttackContext.COMBAT_CROSSFIRE,
            "premises_hit": True,
            "supplies_hit": True,
            "narrative": (
                "Shelling at night damaged the warehouse next to the Kharkiv office; nobody "
                "was inside. Stock was moved; the case is closed."
            ),
            "marking": TLP.GREEN,
        },
        [],
        None,
        (),
    ),
    (
        "demo-09",
        c.Status.ENDORSED,
        {
            "date": datetime.date(2024, 1, 1),
            "date_precision": c.DatePrecision.YEAR,
            "country": "BD",
            "admin1": "Chittagong",
            "place": "Cox's Bazar",
            "location_type": c.LocationType.PROJECT_SITE,
            "category": c.Category.SAFETY,
            "subcategory": c.SubCategory.FIRE,
            "premises_hit": True,
            "narrative": (
                "A fire spread from a cooking stove to a distribution site near Cox's Bazar. "
                "One volunteer was burned while helping people out."
            ),
            "marking": TLP.RED,
        },
        [_person(c.Impact.INJURED, gender=c.Gender.FEMALE, safety=True, on_duty=True)],
        None,
        ("analyst",),
    ),
)


@dataclass
class DemoReport:
    """What :func:`load` found and made."""

    organisations_created: int = 0
    users_created: int = 0
    incidents_created: int = 0
    demo_incidents: int = 0
    imports: list[dict] = field(default_factory=list)
    apps: dict = field(default_factory=dict)
    logins: list[dict] = field(default_factory=list)
    password: str = PASSWORD
    url: str = URL


def load(*, awsd_files=AWSD_FILES, progress=None) -> DemoReport:
    """Create whatever of the demo is missing; return what exists now.

    ``awsd_files`` are imported with the AWSD importer unless a finished batch of the same
    file (same SHA-256) exists already; pass ``()`` to skip them.
    """
    report = DemoReport()
    with transaction.atomic():
        organisations = _organisations(report)
        users = _users(organisations, report)
        _incidents(organisations["UNDEMO"], users, report)
    for path in awsd_files:
        report.imports.append(_import_awsd(Path(path), progress))
    for app in APPS_WITH_DEMO:
        module = _demo_module(app)
        if module is not None:
            with transaction.atomic():
                report.apps[app] = module.load_demo(organisations, users)
    return report


# Apps that add demo data of their own, in this order (analytics' synthetic UN personnel data
# first: the registry and risk demos build on incidents; linkage last, over all of them). Each
# has ``demo.load_demo(organisations, users) -> dict`` of counts, idempotent like the rest.
APPS_WITH_DEMO = ("analytics", "registry", "risk", "sharing", "linkage")


def _demo_module(app: str):
    import importlib
    import importlib.util

    name = f"salama.{app}.demo"
    if importlib.util.find_spec(name) is None:
        return None
    module = importlib.import_module(name)
    return module if hasattr(module, "load_demo") else None


def _organisations(report: DemoReport) -> dict[str, Organisation]:
    found = {}
    for acronym, name, kind in ORGANISATIONS:
        found[acronym], created = Organisation.objects.get_or_create(
            acronym=acronym, defaults={"name": name, "type": kind}
        )
        report.organisations_created += created
    return found


def _users(organisations, report: DemoReport) -> dict:
    User = get_user_model()
    users = {}
    admin = User.objects.filter(username=SUPERUSER).first()
    if admin is None:
        admin = User.objects.create_superuser(SUPERUSER, f"{SUPERUSER}@demo.invalid", PASSWORD)
        report.users_created += 1
    report.logins.append(
        {"login": SUPERUSER, "organisation": "", "roles": "superuser", "who": "Django admin"}
    )
    for username, acronym, roles, who in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            # Only on creation: a second run must not reset a password someone changed.
            user = User.objects.create_user(
                username,
                f"{username}@demo.invalid",
                PASSWORD,
                first_name="Demo",
                last_name=username.replace("_", " "),
            )
            report.users_created += 1
        for role in roles:
            Membership.objects.get_or_create(
                user=user, organisation=organisations[acronym], role=role
            )
        users[username] = user
        report.logins.append(
            {
                "login": username,
                "organisation": acronym,
                "roles": ", ".join(str(Role(r).label) for r in roles),
                "who": who,
            }
        )
    return users


def _incidents(organisation, users, report: DemoReport) -> None:
    reporter, endorser = users["reporter"], users["endorser"]
    existing = set(Source.objects.filter(system=DEMO_SYSTEM).values_list("external_id", flat=True))
    for key, status, fields, persons, road_crash, recipients in INCIDENTS:
        report.demo_incidents += 1
        if key in existing:
            continue
        incident = services.create_incident(
            user=reporter,
            organisation=organisation,
            fields=fields,
            persons=persons,
            sources=[
                {
                    "kind": c.SourceKind.FOCAL_POINT,
                    "system": DEMO_SYSTEM,
                    "external_id": key,
                    "note": "Hand-made demo incident (salama demo); not a real event.",
                }
            ],
            road_crash=road_crash,
            recipients=[users[name] for name in recipients],
        )
        if status != c.Status.DRAFT:
            incident = services.submit(incident, reporter)
        if status in (c.Status.ENDORSED, c.Status.CLOSED):
            incident = services.endorse(incident, endorser)
        if status == c.Status.CLOSED:
            incident = services.close(incident, endorser)
        report.incidents_created += 1


def _import_awsd(path: Path, progress) -> dict:
    # Imported here, not at the top: the runner is interchange's, and only this step needs it.
    from salama.interchange import formats
    from salama.interchange.models import ImportBatch
    from salama.interchange.runner import run_import

    with path.open("rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    done = ImportBatch.objects.filter(
        format="awsd", sha256=sha256, state=ImportBatch.State.DONE
    ).first()
    if done is not None:
        return {"file": path.name, "batch": done.pk, "skipped": True} | _counts(done)
    default = formats.get("awsd").DEFAULT_ORGANISATION
    organisation, _ = Organisation.objects.get_or_create(
        acronym=default["acronym"], defaults={"name": default["name"], "type": default["type"]}
    )
    batch = run_import("awsd", path, organisation=organisation, progress=progress)
    return {"file": path.name, "batch": batch.pk, "skipped": False} | _counts(batch)


def _counts(batch) -> dict:
    return {
        "rows_read": batch.rows_read,
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "quarantined": batch.quarantined,
    }
