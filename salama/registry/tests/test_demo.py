from salama.conftest import make_organisation, make_user
from salama.organisations.choices import Role
from salama.registry import choices as rc
from salama.registry import demo, services
from salama.registry.models import Case


def test_demo_cases_load_once(db):
    org = make_organisation("UNDEMO")
    officer = make_user("case_officer", org, roles=(Role.CASE_OFFICER,))
    first = demo.load_demo({"UNDEMO": org}, {"case_officer": officer})
    assert first["registry cases"] == len(demo.CASES)
    second = demo.load_demo({"UNDEMO": org}, {"case_officer": officer})
    assert second["registry cases"] == 0 and Case.objects.count() == len(demo.CASES)
    cases = Case.objects.all()
    assert set(cases.values_list("offence", flat=True)) == set(rc.Offence.values)
    assert [c.slot for c in Case.objects.overdue()] == ["demo:injury-overdue"]
    assert (
        Case.objects.filter(detention__isnull=False, detention__release_date__isnull=True).count()
        == 1
    )
    for case in Case.objects.visible_to(officer):
        assert services.read_identity(case, officer)["name"].startswith("Demo Person")


def test_demo_designates_the_case_officer_as_survivor_focal_point(db):
    from salama.registry.models import SurvivorFocalPoint

    org = make_organisation("UNDEMO")
    officer = make_user("case_officer", org, roles=(Role.CASE_OFFICER,))
    admin = make_user("org_admin", org, roles=(Role.ORG_ADMIN,))
    users = {"case_officer": officer, "org_admin": admin}
    assert demo.load_demo({"UNDEMO": org}, users)["survivor focal points"] == 1
    assert demo.load_demo({"UNDEMO": org}, users)["survivor focal points"] == 0
    focal = SurvivorFocalPoint.objects.get()
    assert (focal.organisation, focal.user, focal.designated_by) == (org, officer, admin)
    # The restricted demo case stays visible to the demo case officer (named on it).
    restricted = Case.objects.get(slot="demo:sexual-assault")
    assert Case.objects.visible_to(officer).filter(pk=restricted.pk).exists()
