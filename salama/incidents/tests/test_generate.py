"""``salama generate``: synthetic incidents shaped like AWSD, labelled, deterministic per seed."""

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command

from salama.core.geo import check_coordinate
from salama.core.markings import INSTANCE_WIDE
from salama.core.models import AuditEntry
from salama.incidents import choices as c
from salama.incidents import synthetic
from salama.incidents.models import AffectedPerson, Incident, RoadCrash, Source

COUNT = 500


@pytest.fixture
def generated(db):
    return synthetic.generate(COUNT, seed=7, batch_size=200)


def content(incidents) -> list[dict]:
    """Everything the seed decides: incidents, their persons, sources and road crashes."""
    rows = []
    for incident in incidents.order_by("reference").prefetch_related("persons", "sources"):
        row = {
            f.attname: getattr(incident, f.attname)
            for f in Incident._meta.concrete_fields
            if f.attname not in ("id", "created_at", "updated_at")
        }
        row["persons"] = sorted(
            (p.impact, p.cause, p.recruitment, p.gender, p.organisation_type, p.count)
            for p in incident.persons.all()
        )
        row["sources"] = [(s.system, s.kind, s.note) for s in incident.sources.all()]
        crash = RoadCrash.objects.filter(incident=incident).values().first()
        row["road_crash"] = {
            k: v for k, v in (crash or {}).items() if k not in ("id", "incident_id")
        }
        rows.append(row)
    return rows


def test_it_writes_the_incidents_with_their_persons_and_a_synthetic_source(generated):
    incidents = Incident.objects.filter(reference__startswith="SYN-7-")
    assert incidents.count() == COUNT == generated.incidents
    assert AffectedPerson.objects.filter(incident__in=incidents).count() == generated.persons
    assert generated.persons > COUNT * 0.9
    sources = Source.objects.filter(incident__in=incidents)
    assert sources.count() == COUNT
    assert set(sources.values_list("system", flat=True)) == {synthetic.SYSTEM}
    assert RoadCrash.objects.filter(incident__in=incidents).count() == generated.road_crashes


def test_it_belongs_to_the_synthetic_organisation_by_default(generated):
    owners = set(Incident.objects.values_list("organisation__name", flat=True))
    assert owners == {synthetic.ORGANISATION_NAME}


def test_every_incident_has_an_affected_person_or_something_hit(generated):
    without = Incident.objects.filter(
        persons__isnull=True,
        premises_hit=False,
        vehicles_hit=False,
        supplies_hit=False,
        health_facility_hit=False,
    )
    assert not without.exists()


def test_person_counts_are_at_least_one_and_totals_look_like_awsd(generated):
    counts = list(AffectedPerson.objects.values_list("count", flat=True))
    assert min(counts) >= 1
    impacts = set(AffectedPerson.objects.values_list("impact", flat=True))
    assert {"killed", "injured", "abducted"} <= impacts


def test_dates_are_in_range_not_in_the_future_and_match_their_precision(generated):
    today = datetime.date.today()
    precisions = set()
    for date, precision, time in Incident.objects.values_list("date", "date_precision", "time"):
        assert datetime.date(1997, 1, 1) <= date <= min(today, datetime.date(2024, 12, 31))
        precisions.add(precision)
        if precision == c.DatePrecision.MONTH:
            assert date.day == 1 and time is None
        if precision == c.DatePrecision.YEAR:
            assert (date.month, date.day) == (1, 1) and time is None
    assert precisions == {"day", "month", "year"}


def test_references_and_ids_follow_the_dates_as_in_a_real_database(generated):
    dates = list(Incident.objects.order_by("id").values_list("date", flat=True))
    assert dates == sorted(dates)
    by_reference = Incident.objects.order_by("reference").values_list("date", flat=True)
    assert list(by_reference) == dates


def test_workflow_timestamps_follow_the_status(generated):
    for incident in Incident.objects.all():
        assert (incident.submitted_at is None) == (incident.status == c.Status.DRAFT)
        endorsed = incident.status in (c.Status.ENDORSED, c.Status.CLOSED)
        assert (incident.endorsed_at is not None) == endorsed
        assert (incident.closed_at is not None) == (incident.status == c.Status.CLOSED)
        if incident.submitted_at:
            assert incident.submitted_at.date() > incident.date


def test_coordinates_lie_inside_their_country_and_some_incidents_have_none(generated):
    with_point = Incident.objects.filter(latitude__isnull=False)
    assert 0 < with_point.count() < COUNT
    for incident in with_point:
        check = check_coordinate(incident.country, incident.latitude, incident.longitude, 25)
        assert check.acceptable, incident.reference
        assert incident.coordinate_check == check.status
    assert not Incident.objects.filter(latitude__isnull=True).exclude(coordinate_check="").exists()


def test_every_value_passes_the_models_own_validation(generated):
    for incident in Incident.objects.all():
        incident.full_clean()
        assert c.CATEGORY_OF[incident.subcategory] == incident.category
    for person in AffectedPerson.objects.all():
        person.full_clean()
    for crash in RoadCrash.objects.all():
        crash.full_clean()


def test_markings_are_mostly_green_and_statuses_mostly_endorsed(generated):
    markings = Incident.objects.values_list("marking", flat=True)
    assert sum(m == "GREEN" for m in markings) > COUNT * 0.6
    assert {"AMBER", "RED"} <= set(markings)
    statuses = list(Incident.objects.values_list("status", flat=True))
    assert statuses.count("endorsed") > COUNT * 0.6


def test_narratives_name_the_place_so_text_search_finds_it(generated):
    named = Incident.objects.exclude(place="")
    assert named.count() > COUNT * 0.5
    for incident in named:
        assert incident.place in incident.narrative
        assert incident.narrative.endswith("(Synthetic record.)")
    place = named.first().place
    assert Incident.objects.filter(narrative__icontains=place).exists()


def test_an_outsider_sees_the_endorsed_green_ones(generated, outsider):
    visible = Incident.objects.visible_to(outsider)
    expected = Incident.objects.filter(marking__in=INSTANCE_WIDE).exclude(status=c.Status.DRAFT)
    assert visible.count() == expected.count() > 0


def test_one_audit_entry_records_the_whole_generation(generated):
    entries = AuditEntry.objects.filter(action="generate")
    assert entries.count() == 1
    assert entries.get().after["incidents"] == COUNT
    assert entries.get().after["seed"] == 7


def test_the_same_seed_writes_the_same_incidents(db):
    synthetic.generate(300, seed=11, batch_size=128)
    first = content(Incident.objects.all())
    Incident.objects.all().delete()
    synthetic.generate(300, seed=11, batch_size=300)
    assert content(Incident.objects.all()) == first


def test_drawing_in_a_forked_process_writes_the_same_incidents(db):
    synthetic.generate(300, seed=12, batch_size=64, parallel=False)
    first = content(Incident.objects.all())
    persons = sorted(AffectedPerson.objects.values_list("incident__reference", "impact", "count"))
    Incident.objects.all().delete()
    result = synthetic.generate(300, seed=12, batch_size=64, parallel=True)
    assert result.incidents == 300
    assert content(Incident.objects.all()) == first
    again = sorted(AffectedPerson.objects.values_list("incident__reference", "impact", "count"))
    assert again == persons


def test_another_seed_writes_other_incidents(db):
    one = synthetic.IncidentFactory(1, 50).batch(range(1, 51), first_number=1)[0]
    two = synthetic.IncidentFactory(2, 50).batch(range(1, 51), first_number=1)[0]
    assert [row[2:] for row in one] != [row[2:] for row in two]


def test_a_seed_already_generated_here_is_refused(generated):
    with pytest.raises(CommandError, match="seed 7"):
        call_command("generate", "--incidents", "10", "--seed", "7")


def test_the_command_prints_incidents_per_second(db):
    out = io.StringIO()
    call_command("generate", "--incidents", "120", "--seed", "3", stdout=out)
    assert "120 synthetic incidents" in out.getvalue()
    assert "incidents/s" in out.getvalue()


def test_the_command_speaks_json_and_writes_for_a_named_organisation(undp):
    out = io.StringIO()
    call_command(
        "generate",
        "--incidents",
        "40",
        "--seed",
        "4",
        "--organisation",
        "UNDP",
        "--format",
        "json",
        stdout=out,
    )
    report = json.loads(out.getvalue())
    assert report["incidents"] == 40 and report["organisation"] == "UNDP"
    assert Incident.objects.filter(organisation=undp).count() == 40


def test_the_command_refuses_an_unknown_organisation_or_no_count(db):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("generate", "--incidents", "5", "--organisation", "NOPE")
    with pytest.raises(CommandError, match="--incidents"):
        call_command("generate")


def test_the_shipped_distributions_rebuild_identically_from_the_awsd_file(tmp_path):
    from django.conf import settings

    awsd = settings.BASE_DIR / "interchange" / "data" / "awsd" / "awsd_1997-2022.csv"
    out = synthetic.write_distributions(awsd, out=tmp_path / "distributions.json")
    assert out.read_text() == synthetic.DISTRIBUTIONS.read_text()


def test_only_the_killed_of_a_kidnap_killing_are_marked_killed_in_captivity(generated):
    marked = AffectedPerson.objects.filter(killed_in_captivity=True)
    assert marked.exists()
    assert set(marked.values_list("impact", flat=True)) == {"killed"}
    assert set(marked.values_list("incident__means_of_attack", flat=True)) == {"kidnap_killing"}


def test_the_search_index_knows_every_generated_incident(generated):
    from django.db import connection

    from salama.incidents import search_index
    from salama.incidents.search_index import SEARCH_TABLE

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 search index only")
    assert generated.index_seconds > 0
    assert search_index.backlog() == 0, "the generation left its ids in the backlog"
    with connection.cursor() as cursor:
        # Raises if the index and the incidents differ in any row.
        cursor.execute(
            f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rank) VALUES ('integrity-check', 1)"
        )
        place = Incident.objects.exclude(place="").values_list("place", flat=True).first()
        cursor.execute(
            f"SELECT count(*) FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s", [f'"{place}"']
        )
        assert cursor.fetchone()[0] >= Incident.objects.filter(place=place).count() > 0
