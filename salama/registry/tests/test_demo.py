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
