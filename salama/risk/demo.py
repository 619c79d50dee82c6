"""Demo risk data: two SRM areas of the demo UN agency with approved assessments, activities
at every PC level whose decisions cover go, needs approval and no-go, an approver designated
as Designated Official, and an office with its checklist.

- Juba (residual risk High): PC1 needs approval, PC2 accepted (go), a second PC2 not yet
  accepted (needs approval), PC3 and PC4 no-go;
- Bor (residual risk Medium): PC3 accepted (go), PC4 no-go, PC2 needs approval.

Three recent crime incidents in Juba (dated back from the day the demo is loaded) give the
assessment an incident trend, and contradict its "burglary: unlikely" rating (review suggested).

Idempotent: everything is found by its area name, activity code, premises name or the demo
incident's source key first.
"""

import datetime

from django.utils import timezone

from salama.incidents import choices as ic
from salama.incidents import services as incident_services
from salama.incidents.models import Source
from salama.risk import choices as rc
from salama.risk import services
from salama.risk.models import (
    Activity,
    ActivityArea,
    ApprovalAuthority,
    Area,
    Assessment,
    Premises,
)

AREAS = {
    "Juba (demo)": {
        "kind": rc.AreaKind.ADMIN1,
        "country": "SS",
        "admin1": ["Central Equatoria"],
        "events": [
            # residual Likely × Severe → High
            (
                rc.ThreatCategory.CRIME,
                "Armed robbery of vehicles on the Juba–Nimule road",
                ("very_likely", "severe"),
                ("likely", "severe"),
                rc.Strategy.CONTROL,
            ),
            (
                rc.ThreatCategory.ARMED_CONFLICT,
                "Crossfire during clashes in the outskirts",
                ("moderately_likely", "critical"),
                ("unlikely", "critical"),
                rc.Strategy.AVOID,
            ),
            (
                rc.ThreatCategory.CRIME,
                "Burglary of staff residences",
                ("unlikely", "moderate"),
                ("very_unlikely", "moderate"),
                rc.Strategy.ACCEPT,
            ),
            (
                rc.ThreatCategory.HAZARD,
                "Road traffic crash on unpaved roads",
                ("likely", "moderate"),
                ("moderately_likely", "moderate"),
                rc.Strategy.CONTROL,
            ),
        ],
    },
    "Bor (demo)": {
        "kind": rc.AreaKind.ADMIN1,
        "country": "SS",
        "admin1": ["Jonglei"],
        "events": [
            # residual Unlikely × Severe → Medium
            (
                rc.ThreatCategory.CIVIL_UNREST,
                "Demonstration at the distribution site",
                ("likely", "moderate"),
                ("unlikely", "severe"),
                rc.Strategy.CONTROL,
            ),
        ],
    },
}

# (code, name, area, PC rating, accept?) — PC rating: ("pc1", reason) or (contribution, likelihood)
ACTIVITIES = (
    ("DEMO-PC1", "Cholera treatment centres", "Juba (demo)", ("pc1", "Life-saving at scale"), 0),
    ("DEMO-PC2A", "General food distribution", "Juba (demo)", (4, 4), 1),
    ("DEMO-PC2B", "Mobile health clinics", "Juba (demo)", (3, 4), 0),
    ("DEMO-PC3", "School rehabilitation", "Juba (demo)", (2, 4), 0),
    ("DEMO-PC4", "Staff training workshop", "Juba (demo)", (1, 1), 0),
    ("DEMO-PC2A", "General food distribution", "Bor (demo)", (4, 4), 0),
    ("DEMO-PC3", "School rehabilitation", "Bor (demo)", (2, 4), 1),
    ("DEMO-PC4", "Staff training workshop", "Bor (demo)", (1, 1), 0),
)


def load_demo(organisations: dict, users: dict) -> dict:
    agency = organisations["UNDEMO"]
    author, approver = users["analyst"], users["approver"]
    counts = {
        "areas": 0,
        "assessments": 0,
        "activities": 0,
        "acceptances": 0,
        "premises": 0,
        "incidents": 0,
    }
    services.ensure_default_matrix()
    ApprovalAuthority.objects.get_or_create(
        organisation=agency,
        user=approver,
        defaults={"level": rc.ApproverLevel.DESIGNATED_OFFICIAL},
    )
    today = timezone.localdate()
    areas = {}
    for name, spec in AREAS.items():
        area, created = Area.objects.get_or_create(
            organisation=agency,
            name=name,
            defaults={k: spec[k] for k in ("kind", "country", "admin1")},
        )
        counts["areas"] += created
        areas[name] = area
        if not Assessment.objects.filter(area=area).exists():
            _assessment(author, approver, area, spec["events"], today)
            counts["assessments"] += 1
    for code, name, area_name, rating, accept in ACTIVITIES:
        activity, _ = Activity.objects.get_or_create(
            organisation=agency, code=code, defaults={"name": name}
        )
        if rating[0] == "pc1":
            pc = {"pc1": True, "pc1_reason": rating[1]}
        else:
            pc = {"contribution": rating[0], "implementation_likelihood": rating[1]}
        item, created = ActivityArea.objects.get_or_create(
            activity=activity, area=areas[area_name], defaults=pc
        )
        counts["activities"] += created
        if accept and not item.acceptances.exists():
            services.accept_risk(
                user=approver, activity_area=item, today=today, note="Demo acceptance"
            )
            counts["acceptances"] += 1
    counts["incidents"] = _recent_incidents(agency, users, today)
    premises, created = Premises.objects.get_or_create(
        organisation=agency,
        name="Juba compound (demo)",
        defaults={
            "kind": rc.PremisesKind.OFFICE,
            "country": "SS",
            "place": "Juba",
            "area": areas["Juba (demo)"],
        },
    )
    if created:
        counts["premises"] += 1
        items = services.checklist_for(premises)
        services.record_checklist(
            user=users["reporter"],
            premises=premises,
            answers={item.pk: ("no" if item.code == "blast" else "yes") for item in items},
            today=today,
        )
    return counts


def _assessment(author, approver, area, events, today):
    assessment = services.create_assessment(
        user=author,
        area=area,
        fields={
            "period_start": today.replace(month=1, day=1),
            "period_end": today.replace(month=12, day=31),
            "review_date": today + datetime.timedelta(days=90),
            "marking": "AMBER",
            "political": "Demo: transitional arrangements; elections postponed.",
            "security_forces": "Demo: police present in towns, thin on the main roads.",
            "threat_actors": "Demo: criminal gangs on supply routes; local armed groups.",
            "main_issues": "Demo: access to remote sites; fuel shortages.",
            "programme_partners": "Demo: Ministry of Health, two national NGOs.",
            "programme_personnel": "Demo: 40 national staff, 6 international staff, resident.",
            "review_triggers": "A serious incident against aid workers; a change in front lines.",
        },
        general_threats=[
            {
                "category": rc.ThreatCategory.CRIME,
                "intent": 4,
                "capability": 3,
                "inhibiting_context": 2,
                "notes": "Demo rating",
            },
            {
                "category": rc.ThreatCategory.ARMED_CONFLICT,
                "intent": 2,
                "capability": 4,
                "inhibiting_context": 3,
            },
        ],
        threat_events=[
            {
                "category": category,
                "description": description,
                "likelihood": before[0],
                "impact": before[1],
                "residual_likelihood": after[0],
                "residual_impact": after[1],
                "strategy": strategy,
            }
            for category, description, before, after, strategy in events
        ],
        measures=[
            {
                "kind": rc.MeasureKind.PREVENTIVE,
                "description": "Two-vehicle movements with radio checks every 30 minutes",
                "owner": "Field security associate",
                "status": rc.MeasureStatus.IN_PROGRESS,
                "due_date": today + datetime.timedelta(days=30),
                "event": 0,
            },
            {
                "kind": rc.MeasureKind.MITIGATING,
                "description": "Trauma kits in every vehicle; first-aid refresher",
                "owner": "Operations manager",
                "status": rc.MeasureStatus.PLANNED,
                "due_date": today + datetime.timedelta(days=60),
                "event": 0,
            },
        ],
    )
    services.submit(user=author, assessment=assessment)
    services.approve(user=approver, assessment=assessment)
    return assessment


# (source key, days before the demo is loaded, place, narrative)
RECENT_INCIDENTS = (
    ("risk-demo-1", 12, "Juba, Hai Malakal", "Night-time burglary of a staff residence (demo)."),
    ("risk-demo-2", 47, "Juba, Munuki", "Armed men broke into a staff residence (demo)."),
    ("risk-demo-3", 200, "Juba, Gudele", "Vehicle stopped and robbed at gunpoint (demo)."),
)
DEMO_SYSTEM = "demo"


def _recent_incidents(agency, users, today) -> int:
    reporter, endorser = users.get("reporter"), users.get("endorser")
    if reporter is None or endorser is None:
        return 0
    existing = set(
        Source.objects.filter(system=DEMO_SYSTEM, external_id__startswith="risk-demo-").values_list(
            "external_id", flat=True
        )
    )
    created = 0
    for key, days, place, narrative in RECENT_INCIDENTS:
        if key in existing:
            continue
        incident = incident_services.create_incident(
            user=reporter,
            organisation=agency,
            fields={
                "date": today - datetime.timedelta(days=days),
                "country": "SS",
                "admin1": "Central Equatoria",
                "place": place,
                "location_type": ic.LocationType.HOME,
                "category": ic.Category.VIOLENCE,
                "subcategory": ic.SubCategory.CRIME,
                "narrative": narrative,
                "marking": "GREEN",
            },
            persons=[
                {
                    "impact": ic.Impact.ROBBERY,
                    "cause": ic.Cause.VIOLENCE,
                    "recruitment": ic.Recruitment.NATIONAL,
                    "gender": ic.Gender.FEMALE,
                }
            ],
            sources=[
                {
                    "kind": ic.SourceKind.FOCAL_POINT,
                    "system": DEMO_SYSTEM,
                    "external_id": key,
                    "note": "Hand-made demo incident (risk demo); not a real event.",
                }
            ],
        )
        incident = incident_services.submit(incident, reporter)
        incident_services.endorse(incident, endorser)
        created += 1
    return created
