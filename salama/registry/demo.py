"""Demo cases for the demo case officer: one per offence, one overdue, one detention still
open, one restricted sexual-violence case with consent recorded. Names are fictional. The demo
case officer is also the agency's survivor focal point (designated by the demo org admin), so
restricted proposals from demo incidents reach them.

Idempotent: each demo case is found by its slot ``demo:<key>`` before it is made.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from salama.incidents import choices as ic
from salama.registry import choices as rc
from salama.registry import services
from salama.registry.models import Case, SurvivorFocalPoint

ORGANISATION = "UNDEMO"
OFFICER = "case_officer"
ORG_ADMIN = "org_admin"


def _days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


# key, fields, fictional identity, days since the offence
CASES = (
    (
        "killing",
        {
            "offence": rc.Offence.KILLING,
            "country": "SO",
            "perpetrator_type": ic.PerpetratorType.NSAG_REGIONAL,
            "gender": ic.Gender.MALE,
            "recruitment": ic.Recruitment.NATIONAL,
            "focal_point": "Ministry of Foreign Affairs, Protocol Department",
        },
        {"name": "Demo Person Amani", "staff_number": "D-1001", "nationality": "Somalia"},
        400,
    ),
    (
        "injury-overdue",
        {
            "offence": rc.Offence.SERIOUS_INJURY,
            "country": "SS",
            "perpetrator_type": ic.PerpetratorType.CRIMINAL,
            "gender": ic.Gender.MALE,
            "recruitment": ic.Recruitment.NATIONAL,
        },
        {"name": "Demo Person Baraka", "staff_number": "D-1002", "nationality": "South Sudan"},
        200,
    ),
    (
        "sexual-assault",
        {
            "offence": rc.Offence.SEXUAL_ASSAULT,
            "country": "CD",
            "perpetrator_type": ic.PerpetratorType.UNKNOWN,
            "gender": ic.Gender.FEMALE,
            "recruitment": ic.Recruitment.NATIONAL,
        },
        {"name": "Demo Person Chausiku", "staff_number": "D-1003"},
        60,
    ),
    (
        "abduction",
        {
            "offence": rc.Offence.ABDUCTION,
            "country": "ML",
            "perpetrator_type": ic.PerpetratorType.NSAG_UNKNOWN,
            "gender": ic.Gender.MALE,
            "recruitment": ic.Recruitment.INTERNATIONAL,
        },
        {"name": "Demo Person Dalia", "staff_number": "D-1004", "nationality": "Jordan"},
        150,
    ),
    (
        "detention-open",
        {
            "offence": rc.Offence.ARREST_DETENTION,
            "country": "SD",
            "perpetrator_type": ic.PerpetratorType.STATE_HOST,
            "gender": ic.Gender.MALE,
            "recruitment": ic.Recruitment.NATIONAL,
            "focal_point": "Office of the Public Prosecutor",
        },
        {"name": "Demo Person Elias", "staff_number": "D-1005", "nationality": "Sudan"},
        45,
    ),
    (
        "other",
        {
            "offence": rc.Offence.OTHER,
            "country": "AF",
            "perpetrator_type": ic.PerpetratorType.CRIMINAL,
            "gender": ic.Gender.OTHER_OR_UNKNOWN,
            "recruitment": ic.Recruitment.LOCALLY_RECRUITED,
        },
        {"name": "Demo Person Farid", "staff_number": "D-1006"},
        20,
    ),
)


def _history(key: str, case: Case, officer):
    """The follow-up each demo case needs to show its feature."""
    if key == "killing":
        entry = services.add_follow_up(
            case,
            officer,
            {
                "date": _days_ago(380),
                "channel": rc.Channel.NOTE_VERBALE,
                "from_entity": "Resident Coordinator's Office",
                "authority": rc.Authority.FOREIGN_AFFAIRS,
                "reference_no": "RCO/2024/117",
                "ask_investigate": True,
                "ask_inform": True,
            },
        )
        services.record_response(entry, officer, response_date=_days_ago(340))
        services.add_milestone(
            case,
            officer,
            stage=rc.Stage.REPORTED,
            date=_days_ago(395),
            evidence="Police report number given by the district station.",
        )
        services.add_milestone(
            case,
            officer,
            stage=rc.Stage.INVESTIGATION,
            date=_days_ago(30),
            evidence="Letter of the Attorney General's office.",
        )
    elif key == "injury-overdue":
        services.add_follow_up(
            case,
            officer,
            {
                "date": _days_ago(190),
                "channel": rc.Channel.LETTER,
                "from_entity": "UNDSS",
                "authority": rc.Authority.POLICE,
                "ask_investigate": True,
            },
        )
        # Nothing has come back since the case was opened 180 days ago.
        Case.objects.filter(pk=case.pk).update(
            opened_on=_days_ago(180), last_movement=_days_ago(180)
        )
    elif key == "sexual-assault":
        services.record_consent(
            case,
            officer,
            use=rc.ConsentUse.REFERRAL,
            given=True,
            recorded_on=_days_ago(58),
        )
        services.record_consent(
            case,
            officer,
            use=rc.ConsentUse.AUTHORITIES,
            given=False,
            recorded_on=_days_ago(58),
            note="The survivor does not wish the police to be involved for now.",
        )
    elif key == "abduction":
        services.update_case(
            case.pk,
            user=officer,
            expected_version=case.version,
            abduction={
                "abductor_type": rc.AbductorType.NSAG,
                "demands_made": True,
                "demands": "Ransom demanded through an intermediary.",
                "proof_of_life": [_days_ago(120).isoformat(), _days_ago(40).isoformat()],
            },
        )
    elif key == "detention-open":
        services.update_case(
            case.pk,
            user=officer,
            expected_version=case.version,
            detention={
                "authority": rc.DetainingAuthority.STATE,
                "notified_on": _days_ago(44),
                "notified_by": "A colleague who witnessed the arrest",
                "medical_access_on": _days_ago(30),
                "charges": "None stated.",
                "immunity_invoked": True,
            },
        )
        services.add_follow_up(
            case,
            officer,
            {
                "date": _days_ago(43),
                "channel": rc.Channel.NOTE_VERBALE,
                "from_entity": "Office of Legal Affairs",
                "authority": rc.Authority.FOREIGN_AFFAIRS,
                "ask_access": True,
                "ask_release": True,
            },
        )


def load_demo(organisations: dict, users: dict) -> dict:
    organisation = organisations[ORGANISATION]
    officer = users[OFFICER]
    admin = users.get(ORG_ADMIN)
    focal_points = 0
    designated = SurvivorFocalPoint.objects.filter(organisation=organisation, user=officer)
    if admin and services.is_org_admin(admin, organisation.pk) and not designated.exists():
        services.designate_focal_point(organisation, officer, admin)
        focal_points = 1
    made = 0
    for key, fields, identity, days in CASES:
        slot = f"demo:{key}"
        if Case.objects.filter(slot=slot, organisation=organisation).exists():
            continue
        with transaction.atomic():
            case = services.create_case(
                user=officer,
                organisation=organisation,
                fields=fields | {"date": _days_ago(days)},
                identity=identity,
            )
            Case.objects.filter(pk=case.pk).update(slot=slot)
            case.refresh_from_db()
            _history(key, case, officer)
        made += 1
    return {
        "registry cases": made,
        "registry cases in total": Case.objects.count(),
        "survivor focal points": focal_points,
    }
