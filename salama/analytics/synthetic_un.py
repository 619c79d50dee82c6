"""SYNTHETIC UN-personnel incidents for the demo, calibrated to GA resolution 79/138.

Not real events. Every record is labelled: reference ``SYNUN-…``, a Source with system
``synthetic-un`` and a note saying so, and a narrative ending "(Synthetic record.)".

2023 is exact by construction: the persons of each (impact, cause) are created in the numbers
the resolution gives (citing A/79/149): 1,915 affected; 32 deaths (13 from violence, 12 of them
locally recruited; 19 from safety incidents, 14 locally recruited); 284 injuries (107 from
violence); 17 abductions; 9 sexual assaults; 103 arrests and detentions; 399 intimidation and
harassment. The 1,071 people in categories the resolution does not name are split over
robbery, burglary, physical assault, missing and other. Road crashes are the main safety cause.
Other years (2019–2022, 2024) are the 2023 pattern scaled by a plausible factor, with noise.
Deterministic: one seeded random generator, so every run makes the same records.
"""

import datetime
import random

from django.db import transaction

from salama.core import audit
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident, RoadCrash, Source

SYSTEM = "synthetic-un"
SEED = 79138
LABEL = "(Synthetic record.)"
NOTE = (
    "SYNTHETIC UN-personnel record for the Salama demo, calibrated so that 2023 matches "
    "GA resolution 79/138; not a real event."
)
I, V, S = c.Impact, c.Cause.VIOLENCE, c.Cause.SAFETY  # noqa: E741
T = c.SubCategory

# 2023, exact: (impact, cause) -> {sub-category: persons}.
PERSONS_2023 = {
    (I.KILLED, V): {T.ARMED_CONFLICT: 5, T.CRIME: 4, T.TERRORISM: 3, T.CIVIL_UNREST: 1},
    (I.KILLED, S): {
        T.ROAD_TRAFFIC: 11,
        T.AVIATION: 1,
        T.DROWNING: 2,
        T.OCCUPATIONAL: 1,
        T.NATURAL_HAZARD: 2,
        T.FIRE: 1,
        T.SAFETY_OTHER: 1,
    },
    (I.INJURED, V): {T.ARMED_CONFLICT: 40, T.CRIME: 38, T.TERRORISM: 12, T.CIVIL_UNREST: 17},
    (I.INJURED, S): {
        T.ROAD_TRAFFIC: 118,
        T.OCCUPATIONAL: 22,
        T.FIRE: 8,
        T.NATURAL_HAZARD: 12,
        T.DROWNING: 3,
        T.SAFETY_OTHER: 14,
    },
    (I.ABDUCTED, V): {T.CRIME: 10, T.ARMED_CONFLICT: 7},
    (I.SEXUAL_ASSAULT, V): {T.CRIME: 9},
    (I.ARRESTED_DETAINED, V): {T.VIOLENCE_UNKNOWN: 103},
    (I.INTIMIDATION_HARASSMENT, V): {T.CIVIL_UNREST: 150, T.CRIME: 189, T.ARMED_CONFLICT: 60},
    (I.ROBBERY, V): {T.CRIME: 430},
    (I.BURGLARY, V): {T.CRIME: 330},
    (I.PHYSICAL_ASSAULT, V): {T.CRIME: 190, T.CIVIL_UNREST: 60},
    (I.MISSING, V): {T.VIOLENCE_UNKNOWN: 6},
    (I.OTHER, V): {T.CRIME: 55},
}
# Locally recruited among the dead in 2023 (A/79/149 para. 38).
LOCAL_DEATHS_2023 = {V: 12, S: 14}
# Other years: the 2023 pattern times this factor (plus noise).
YEAR_FACTORS = {2019: 0.82, 2020: 0.78, 2021: 0.88, 2022: 0.94, 2023: 1.0, 2024: 1.06}

# Duty stations: (country, place, latitude, longitude, weight).
STATIONS = (
    ("AF", "Kabul", 34.53, 69.17, 9),
    ("SS", "Juba", 4.85, 31.58, 9),
    ("SO", "Mogadishu", 2.05, 45.32, 8),
    ("CD", "Goma", -1.68, 29.22, 8),
    ("ML", "Bamako", 12.64, -8.0, 6),
    ("CF", "Bangui", 4.37, 18.56, 6),
    ("SY", "Damascus", 33.51, 36.29, 5),
    ("YE", "Aden", 12.79, 45.03, 5),
    ("SD", "Khartoum", 15.5, 32.56, 6),
    ("UA", "Kyiv", 50.45, 30.52, 4),
    ("HT", "Port-au-Prince", 18.54, -72.34, 5),
    ("IQ", "Baghdad", 33.31, 44.36, 3),
    ("LB", "Beirut", 33.89, 35.5, 3),
    ("ET", "Addis Ababa", 9.03, 38.74, 4),
    ("NG", "Maiduguri", 11.85, 13.16, 4),
    ("KE", "Nairobi", -1.29, 36.82, 4),
    ("MM", "Yangon", 16.87, 96.2, 3),
    ("CO", "Bogotá", 4.71, -74.07, 2),
    ("BF", "Ouagadougou", 12.37, -1.52, 3),
    ("PK", "Islamabad", 33.68, 73.05, 2),
)
MEANS = {
    T.ARMED_CONFLICT: [c.MeansOfAttack.SHELLING, c.MeansOfAttack.AERIAL_BOMBARDMENT],
    T.TERRORISM: [c.MeansOfAttack.ROADSIDE_IED, c.MeansOfAttack.COMPLEX_ATTACK],
    T.CRIME: [c.MeansOfAttack.SHOOTING, c.MeansOfAttack.BODILY_ASSAULT],
    T.CIVIL_UNREST: [c.MeansOfAttack.BODILY_ASSAULT],
    T.VIOLENCE_UNKNOWN: [c.MeansOfAttack.UNKNOWN],
}
LOCATION = {
    I.BURGLARY: c.LocationType.HOME,
    I.ARRESTED_DETAINED: c.LocationType.CUSTODY,
}


def _scaled(factor: float, rng: random.Random) -> dict:
    if factor == 1.0:
        return PERSONS_2023
    out = {}
    for key, subs in PERSONS_2023.items():
        out[key] = {
            sub: max(0, round(n * factor * rng.uniform(0.85, 1.15))) for sub, n in subs.items()
        }
    return out


def _people(year: int, rng: random.Random) -> list[dict]:
    """Every affected person of ``year``: impact, cause, sub-category, recruitment, gender."""
    plan = _scaled(YEAR_FACTORS[year], rng)
    people = []
    for (impact, cause), subs in plan.items():
        group = [(impact, cause, sub) for sub, n in subs.items() for _ in range(n)]
        if impact == I.KILLED:
            local = (
                LOCAL_DEATHS_2023[cause]
                if year == 2023
                else round(len(group) * rng.uniform(0.7, 0.9))
            )
            flags = [True] * local + [False] * (len(group) - local)
            rng.shuffle(flags)
        else:
            flags = [rng.random() < 0.84 for _ in group]
        for (impact_, cause_, sub), local in zip(group, flags, strict=True):
            recruitment = (
                (c.Recruitment.LOCALLY_RECRUITED if rng.random() < 0.7 else c.Recruitment.NATIONAL)
                if local
                else c.Recruitment.INTERNATIONAL
            )
            gender = c.Gender.FEMALE if rng.random() < 0.27 else c.Gender.MALE
            if rng.random() < 0.03:
                gender = c.Gender.OTHER_OR_UNKNOWN
            if impact_ == I.SEXUAL_ASSAULT and rng.random() < 0.8:
                gender = c.Gender.FEMALE
            people.append(
                {
                    "impact": impact_,
                    "cause": cause_,
                    "sub": sub,
                    "recruitment": recruitment,
                    "gender": gender,
                    "is_medical": rng.random() < 0.06,
                }
            )
    return people


def _incidents(year: int, rng: random.Random) -> list[tuple[dict, list[dict]]]:
    """Group the year's people into incidents of one to four, within one sub-category
    (a road crash may kill one and injure two; a robbery may hit a household)."""
    people = _people(year, rng)
    by_sub: dict = {}
    for person in people:
        by_sub.setdefault(person["sub"], []).append(person)
    incidents = []
    for sub in sorted(by_sub):
        group = by_sub[sub]
        rng.shuffle(group)
        while group:
            size = min(len(group), rng.choice((1, 1, 1, 2, 2, 3, 4)))
            members, group = group[:size], group[size:]
            incidents.append((sub, members))
    rng.shuffle(incidents)
    result = []
    for number, (sub, members) in enumerate(incidents, start=1):
        country, place, lat, lon, _ = rng.choices(STATIONS, [s[4] for s in STATIONS])[0]
        day = datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        category = c.CATEGORY_OF[sub]
        first = members[0]["impact"]
        fields = {
            "reference": f"SYNUN-{year}-{number:05d}",
            "date": day,
            "country": country,
            "place": place,
            "latitude": round(lat + rng.uniform(-0.15, 0.15), 4),
            "longitude": round(lon + rng.uniform(-0.15, 0.15), 4),
            "coordinate_precision": c.CoordinatePrecision.APPROXIMATE,
            "coordinates_obfuscated": True,
            "coordinate_check": c.CoordinateCheckStatus.UNCHECKED,
            "category": category,
            "subcategory": sub,
            "location_type": (
                c.LocationType.ROAD
                if sub == T.ROAD_TRAFFIC
                else LOCATION.get(
                    first,
                    rng.choice(
                        [
                            c.LocationType.OFFICE_COMPOUND,
                            c.LocationType.PUBLIC_LOCATION,
                            c.LocationType.PROJECT_SITE,
                            c.LocationType.ROAD,
                        ]
                    ),
                )
            ),
            "means_of_attack": (rng.choice(MEANS[sub]) if category == c.Category.VIOLENCE else ""),
            "premises_hit": category == c.Category.VIOLENCE and rng.random() < 0.05,
            "vehicles_hit": sub == T.ROAD_TRAFFIC or rng.random() < 0.04,
            "health_facility_hit": any(p["is_medical"] for p in members) and rng.random() < 0.5,
            "narrative": (
                f"{c.SubCategory(sub).label} affecting {len(members)} UN personnel near "
                f"{place}. {LABEL}"
            ),
            "verification": c.Verification.VERIFIED,
            "marking": TLP.GREEN if rng.random() < 0.75 else TLP.AMBER,
            "status": c.Status.CLOSED if year < 2023 else c.Status.ENDORSED,
        }
        result.append((fields, members))
    return result


def build(years=tuple(YEAR_FACTORS)) -> dict[int, list[tuple[dict, list[dict]]]]:
    """The synthetic incidents per year, without touching the database."""
    rng = random.Random(SEED)
    return {year: _incidents(year, rng) for year in years}


def load_demo(organisations: dict, users: dict) -> dict:
    """Create the synthetic UN incidents under the demo UN organisation (UNDEMO), once.

    Idempotent: if any record of this source exists, nothing is created. Also enters the demo
    organisation's headcounts, so rates per 10,000 staff can be shown.
    """
    from salama.analytics.models import Headcount

    organisation = organisations["UNDEMO"]
    reporter = users.get("reporter")
    counts = {"synthetic_un_incidents": 0, "synthetic_un_persons": 0, "headcounts": 0}
    plan = build()
    if not Source.objects.filter(system=SYSTEM).exists():
        with transaction.atomic():
            counts.update(_create(plan, organisation, reporter))
    for year in plan:
        for country, *_ in STATIONS:
            staff = 400 + (sum(map(ord, country)) * 37 + year) % 2600
            national = round(staff * 0.82)
            _, created = Headcount.objects.get_or_create(
                organisation=organisation,
                country=country,
                year=year,
                defaults={
                    "staff": staff,
                    "national_staff": national,
                    "international_staff": staff - national,
                },
            )
            counts["headcounts"] += created
    counts["synthetic_un_total"] = Incident.objects.filter(sources__system=SYSTEM).count()
    return counts


def _create(plan: dict, organisation, reporter) -> dict:
    now = datetime.datetime.now(datetime.UTC)
    incidents, members_of = [], []
    for year_incidents in plan.values():
        for fields, members in year_incidents:
            status = fields["status"]
            incidents.append(
                Incident(
                    organisation=organisation,
                    reported_by=reporter,
                    submitted_at=now,
                    endorsed_at=now,
                    closed_at=now if status == c.Status.CLOSED else None,
                    **fields,
                )
            )
            members_of.append(members)
    Incident.objects.bulk_create(incidents, batch_size=2000)
    persons, sources, crashes = [], [], []
    rng = random.Random(SEED + 1)
    for incident, members in zip(incidents, members_of, strict=True):
        for person in members:
            persons.append(
                AffectedPerson(
                    incident=incident,
                    impact=person["impact"],
                    cause=person["cause"],
                    recruitment=person["recruitment"],
                    gender=person["gender"],
                    organisation=organisation,
                    organisation_type=c.AffectedOrgType.UN,
                    is_medical=person["is_medical"],
                    on_duty=True,
                )
            )
        sources.append(
            Source(
                incident=incident,
                organisation=organisation,
                kind=c.SourceKind.OTHER,
                system=SYSTEM,
                external_id=incident.reference,
                note=NOTE,
            )
        )
        if incident.subcategory == T.ROAD_TRAFFIC:
            crashes.append(
                RoadCrash(
                    incident=incident,
                    vehicle_owner=c.VehicleOwner.UN,
                    vehicle_type=rng.choice(list(c.VehicleType)[:5]),
                    driver_category=rng.choice(list(c.DriverCategory)[:3]),
                    seatbelt_worn=rng.random() < 0.6,
                    speed_related=rng.random() < 0.4,
                    light_condition=rng.choice(list(c.LightCondition)),
                    third_party_killed=rng.choice((0, 0, 0, 1, 2)),
                    third_party_seriously_injured=rng.choice((0, 0, 1, 1, 2, 3)),
                    third_party_slightly_injured=rng.choice((0, 1, 2, 4)),
                )
            )
    AffectedPerson.objects.bulk_create(persons, batch_size=5000)
    Source.objects.bulk_create(sources, batch_size=5000)
    RoadCrash.objects.bulk_create(crashes, batch_size=5000)
    counts = {"synthetic_un_incidents": len(incidents), "synthetic_un_persons": len(persons)}
    audit.record(
        "synthetic-un:load",
        actor=reporter,
        object_type="incidents.incident",
        object_repr="synthetic UN-personnel demo data",
        after={**counts, "system": SYSTEM, "seed": SEED, "note": NOTE},
    )
    return counts
