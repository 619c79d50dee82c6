"""The incident search (``Incident.objects.search``) and the indexes behind it.

SQLite answers from the FTS5 trigram table kept by triggers, PostgreSQL from trigram GIN
indexes; both must find the same incidents as a plain ``icontains`` would.
"""

import datetime

import pytest
from django.db import connection

from salama.conftest import incident_fields, make_incident
from salama.incidents import choices as c
from salama.incidents import services
from salama.incidents.models import Incident

SEARCH_TABLE = "incidents_incident_search"
TRIGGERS = [f"{SEARCH_TABLE}_insert", f"{SEARCH_TABLE}_update", f"{SEARCH_TABLE}_delete"]

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's FTS5 search table only"
)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's trigram indexes only"
)


def found(text) -> set[str]:
    return set(Incident.objects.search(text).values_list("reference", flat=True))


def indexed_rowids(text) -> set[int]:
    """What the FTS5 index itself holds for ``text``: reading only rowids never touches the
    incidents table, so a row left behind in the index would show here."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s", [f'"{text}"']
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def jalalabad(reporter, undp):
    return make_incident(
        reporter,
        undp,
        country="AF",
        admin1="Nangarhar",
        place="Jalalabad",
        latitude=34.43,
        longitude=70.45,
        narrative="Unknown gunmen fired on a clearly marked ambulance near the bus station.",
    )


@pytest.fixture
def juba(reporter, undp):
    return make_incident(reporter, undp, narrative="A convoy was stopped at a checkpoint.")


@pytest.mark.parametrize(
    "text",
    ["Jalalabad", "jalalabad", "lalab", "LALAB", "gunmen fired", "AMBULANCE", "bus station."],
)
def test_it_finds_a_piece_of_the_narrative_or_the_place_in_any_case(jalalabad, juba, text):
    assert found(text) == {jalalabad.reference}


@pytest.mark.parametrize("text", ["ub", "UB", "j"])
def test_terms_of_one_or_two_letters_are_still_found(jalalabad, juba, text):
    # "ub" and "j" are in Juba (the place) but not in Jalalabad's record… except "j".
    expected = {juba.reference, jalalabad.reference} if text == "j" else {juba.reference}
    assert found(text) == expected


def test_it_finds_nothing_for_a_term_in_no_incident(jalalabad, juba):
    assert found("Timbuktoo") == set()
    assert found("lalabad station") == set()  # every piece occurs, but not together


def test_it_finds_an_incident_by_its_reference_in_any_case(jalalabad, juba):
    assert found(jalalabad.reference.lower()) == {jalalabad.reference}
    assert found(f"  {jalalabad.reference}  ") == {jalalabad.reference}


def test_an_empty_search_leaves_the_incidents_as_they_are(jalalabad, juba):
    assert found("   ") == {jalalabad.reference, juba.reference}


@pytest.mark.parametrize("text", ['"quoted"', "50%", "a_b", "x' OR 1=1 --", 'say "hi'])
def test_quotes_and_wildcards_are_searched_for_as_they_are(reporter, undp, text):
    incident = make_incident(
        reporter, undp, narrative="""Cost "quoted" at 50% of a_b; x' OR 1=1 -- say "hi."""
    )
    make_incident(reporter, undp, narrative="Cost 50 of ab; x OR 11 say hi")
    assert found(text) == {incident.reference}


def test_accented_letters_are_found_as_written(reporter, undp):
    incident = make_incident(reporter, undp, place="Ségou", narrative="")
    make_incident(reporter, undp, place="Segou", narrative="")
    assert found("égo") == {incident.reference}


def test_an_edit_is_found_under_its_new_words_only(reporter, undp, jalalabad):
    services.update_incident(
        jalalabad.pk,
        user=reporter,
        expected_version=jalalabad.version,
        fields={"narrative": "A warehouse was looted overnight.", "place": "Kandahar"},
    )
    assert found("warehouse") == found("kandahar") == {jalalabad.reference}
    assert found("ambulance") == found("Jalalabad") == set()


def test_an_update_of_many_rows_at_once_reaches_the_search(jalalabad, juba):
    Incident.objects.filter(pk__in=[jalalabad.pk, juba.pk]).update(narrative="Roadblock.")
    assert found("roadblock") == {jalalabad.reference, juba.reference}
    assert found("ambulance") == found("convoy") == set()


def test_incidents_written_in_bulk_are_found(reporter, undp):
    """The importer and generator write with plain INSERTs, not through the models."""
    Incident.objects.bulk_create(
        [
            Incident(
                reference=f"SAL-RAW{i}",
                organisation=undp,
                reported_by=reporter,
                status=c.Status.SUBMITTED,
                **incident_fields(
                    date=datetime.date(2020, 1, 1), narrative=f"Looting number {i} at Bor."
                ),
            )
            for i in range(3)
        ]
    )
    assert found("looting number 2") == {"SAL-RAW2"}
    assert len(found("at bor")) == 3


def test_search_composes_with_the_door_and_the_filters(outsider, jalalabad, juba):
    # Both are drafts of UNDP, so an analyst of NRC sees neither.
    assert not Incident.objects.visible_to(outsider).search("Jalalabad").exists()
    assert not Incident.objects.search("Jalalabad").filter(country="SS").exists()


@sqlite_only
def test_sqlite_reads_the_trigram_table_for_three_letters_or_more(jalalabad):
    assert "VIRTUAL TABLE" in Incident.objects.search("lalab").explain()
    assert "VIRTUAL TABLE" not in Incident.objects.search("la").explain()


@sqlite_only
@pytest.mark.django_db
def test_the_triggers_that_keep_the_search_table_in_step_are_there():
    """A migration that makes Django rebuild incidents_incident on SQLite drops them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    assert set(TRIGGERS) <= names


@sqlite_only
def test_a_deleted_incident_leaves_nothing_in_the_search_table(reporter, undp, jalalabad):
    in_index = indexed_rowids("Jalalabad")
    assert in_index == {jalalabad.pk}
    Incident.objects.filter(pk=jalalabad.pk).delete()
    assert indexed_rowids("Jalalabad") == set()
    with connection.cursor() as cursor:
        # Raises if the index and the incidents table differ in any row.
        cursor.execute(
            f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rank) VALUES ('integrity-check', 1)"
        )


@sqlite_only
def test_an_edit_leaves_the_old_words_nowhere_in_the_search_table(reporter, undp, jalalabad):
    jalalabad.place = "Kunduz"
    jalalabad.narrative = "Shelling."
    jalalabad.save()
    assert indexed_rowids("Jalalabad") == set()
    assert indexed_rowids("Kunduz") == {jalalabad.pk}


@postgresql_only
def test_postgresql_can_answer_from_the_trigram_indexes(jalalabad):
    """The indexes are on the very expressions ``icontains`` compares (UPPER(…) LIKE)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = Incident.objects.search("lalab").order_by().explain()
    assert "incident_narrative_trgm" in plan and "incident_place_trgm" in plan
    assert "incident_reference_upper" in plan


@sqlite_only
@pytest.mark.django_db
def test_the_search_table_buffers_a_whole_import_chunk_before_writing_a_segment():
    """Migration 0004: without it, each chunk of an import writes dozens of small segments
    that FTS5 must then merge, at a cost that grows with the index."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT v FROM {SEARCH_TABLE}_config WHERE k = 'hashsize'")
        assert cursor.fetchone()[0] == 64 * 2**20
