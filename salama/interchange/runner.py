"""The batch runner every import format shares: ``run_import("awsd", path, organisation=…)``.

It does, once for all formats: encoding detection (UTF-8 with or without BOM; otherwise each
line is read as UTF-8 if it can be, else cp1252, else Latin-1, since old exports mix them),
streaming (the file is never read whole: rows go through in chunks of ``CHUNK_SIZE``),
idempotency (a row is found again by its ``Source.system`` and ``external_id``; the same
``content_hash`` means unchanged, another means the incident and its persons and totals are
updated, with before/after in the audit log), quarantine (a row that cannot be an incident is
kept whole with a reason code and a message saying what and where; the other rows go on),
the counters and notes of the :class:`ImportBatch`, and one audit entry per batch.

Every row read is accounted for: ``rows_read == created + updated + unchanged + quarantined``.

Speed (docs/benchmarks.md has the numbers): each chunk costs a handful of queries whatever
its size: one to find the chunk's existing sources, one for the ids the batch already took
(a temporary table, so memory does not grow with the file), one to reserve the new incidents'
ids, one bulk insert per table (COPY on PostgreSQL), one to save the counters, all in one
transaction; SQLite's search index catches up once, after the last chunk (``search_index``).
No ``full_clean`` per row: formats validate with plain functions and cached coordinate checks.
Large files are read and converted in a second process while this one writes
(:class:`_Conversions`), and Python's
cycle collector runs less often meanwhile. Created incidents get no audit entry each (a
million would take hours): the batch's audit entry and the incident's Source row (``note``
names the batch) record them. Updates are rare and go one by one, each with its own audit
entry.
"""

import base64
import codecs
import contextlib
import datetime
import gc
import hashlib
import itertools
import json
import operator
import os
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, DateField, DateTimeField, F
from django.utils import timezone

from salama.core import audit, locks
from salama.core.forked import Forked
from salama.incidents import choices as c
from salama.incidents import search_index
from salama.incidents.models import AffectedPerson, Incident, ReportedTotal, Source
from salama.incidents.services import REFERENCE_ALPHABET, full_snapshot
from salama.incidents.synthetic import (
    bigger_page_cache,
    refresh_statistics,
    reserve_incident_ids,
)
from salama.incidents.validators import latest_allowed_date
from salama.interchange import formats
from salama.interchange.formats import Context, Facts, ImportRefused, Reject, Row
from salama.interchange.models import ImportBatch, QuarantinedRow
from salama.interchange.signals import import_finished
from salama.organisations.models import Organisation

CHUNK_SIZE = 10_000
# Lines longer than this are handed to the CSV reader in pieces, so one broken line (a
# missing closing quote, a binary file) cannot take the memory with it.
LINE_LIMIT = 1 << 20
# How many examples each kind of note keeps in the batch report.
NOTE_EXAMPLES = 20
# Source lookups per query; stays under every database's parameter limit.
LOOKUP_SLICE = 500
# SQLite: the page cache while a batch writes (the indexes' pages stay in memory).
PAGE_CACHE_KIB = 128 * 1024
# Files this large are read and converted in a second process while this one writes.
PARALLEL_FROM_BYTES = 4 * 2**20
# PostgreSQL: refresh table statistics once a batch has created this many incidents.
ANALYZE_FROM = 5000
# SQLite: chunks creating this many incidents leave the search index to the batch's end.
DEFER_SEARCH_FROM = 1000

__all__ = ["CHUNK_SIZE", "ImportRefused", "run_import", "source_organisation"]

Progress = Callable[[int, int, int], None]  # (bytes read, bytes in the file, rows read)


def run_import(
    format_name: str,
    path,
    *,
    organisation,
    user=None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
    options: dict | None = None,
    parallel: bool | None = None,
    on_wait: Callable[[], None] | None = None,
) -> ImportBatch:
    """Import the file at ``path`` with the format ``format_name``; return its batch.

    ``options`` go to the format's reader as keyword arguments (a saved column mapping, a
    sheet name…). A format that reads bytes itself (XLSX, JSON) defines
    ``read_file(path, **options)``; the others get decoded lines, ``read(lines, **options)``.

    Raises :class:`ImportRefused` (before any batch exists) when the format is unknown, the
    file is missing or it is not in that format. Anything unexpected later marks the batch
    "failed" with the error, and is raised again; chunks already committed stay, and
    importing the file again picks up where it stopped (idempotency).

    ``parallel``: read and convert the rows in a second process while this one writes
    (see :class:`_Conversions`); by default for files of ``PARALLEL_FROM_BYTES`` or more.

    Imports of the same source system run one at a time (``salama.core.locks``): two at once
    would both create the rows that neither has yet, and the second's would be refused. A
    second import waits for the first, calling ``on_wait()`` once, then finds its rows.
    """
    fmt = formats.get(format_name)
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file.")
    sha256, encoding = inspect_file(path)
    total_bytes = path.stat().st_size
    options = options or {}
    with locks.held(f"import:{fmt.SOURCE_SYSTEM}", on_wait=on_wait), path.open("rb") as handle:
        lines = _Lines(handle, encoding)
        if hasattr(fmt, "read_file"):
            reading = fmt.read_file(path, **options)
            encoding = getattr(reading, "encoding", "") or "binary"
        else:
            reading = fmt.read(lines, **options)
        batch = ImportBatch.objects.create(
            format=fmt.NAME,
            layout=reading.layout[:60],
            encoding=encoding,
            filename=path.name[:300],
            sha256=sha256,
            organisation=organisation,
            started_by=user if getattr(user, "pk", None) else None,
        )
        run = _Run(batch, fmt, reading, user)
        parallel = total_bytes >= PARALLEL_FROM_BYTES if parallel is None else parallel
        chunks = _Conversions(reading, lines, run.convert, chunk_size, parallel)
        try:
            with _fewer_collections(), bigger_page_cache(PAGE_CACHE_KIB), chunks:
                for converted, bytes_read in chunks:
                    run.import_chunk(converted)
                    if progress:
                        progress(bytes_read, total_bytes, batch.rows_read)
        except BaseException as exc:
            # The original error matters more than a failure to record it.
            with contextlib.suppress(DatabaseError):
                run.finish(ImportBatch.State.FAILED, error=f"{type(exc).__name__}: {exc}")
            raise
        if not hasattr(fmt, "read_file"):
            batch.encoding = chunks.encoding_found[:30]
        run.finish(ImportBatch.State.DONE)
    # The rows are in and searchable; SQLite's search index catches up with them now, and
    # SQLite, which never gathers planner statistics by itself, gets them after a large batch
    # (without them the list sorts every visible incident instead of reading the date index).
    search_index.catch_up()
    if connection.vendor == "sqlite" and batch.created >= ANALYZE_FROM:
        refresh_statistics()
    import_finished.send(ImportBatch, batch=batch)
    return batch


def source_organisation(format_name: str) -> Organisation:
    """The organisation standing for a format's data source (e.g. "AWSD"), created if
    missing: the owner of imported incidents when nobody names one."""
    default = formats.get(format_name).DEFAULT_ORGANISATION
    organisation, _ = Organisation.objects.get_or_create(
        acronym=default["acronym"],
        defaults={"name": default["name"], "type": default["type"]},
    )
    return organisation


def inspect_file(path: Path) -> tuple[str, str]:
    """The file's sha256 and encoding: "utf-8-sig", "utf-8", or "legacy" (decided per line)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    bom = False
    with path.open("rb") as handle:
        first = True
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            if first:
                bom, first = chunk.startswith(codecs.BOM_UTF8), False
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if utf8:
        return digest.hexdigest(), "utf-8-sig" if bom else "utf-8"
    return digest.hexdigest(), "legacy"


class _Lines:
    """The file's lines as text, counting the bytes read (for the progress bar)."""

    def __init__(self, handle, encoding: str):
        self.handle = handle
        self.encoding = encoding
        self.bytes_read = 0
        self.utf8_lines = 0
        self.cp1252_needed = False

    def __iter__(self) -> Iterator[str]:
        if self.encoding != "legacy":
            decoder = codecs.getincrementaldecoder(self.encoding)()
            while line := self.handle.readline(LINE_LIMIT):
                self.bytes_read += len(line)
                yield decoder.decode(line)
            return
        while line := self.handle.readline(LINE_LIMIT):
            self.bytes_read += len(line)
            if line.isascii():
                yield line.decode("ascii")
                continue
            try:
                text = line.decode("utf-8")
                self.utf8_lines += 1
            except UnicodeDecodeError:
                try:
                    text = line.decode("cp1252")
                    if any(0x80 <= byte <= 0x9F for byte in line):
                        self.cp1252_needed = True
                except UnicodeDecodeError:
                    text = line.decode("latin-1")
            yield text

    def encoding_found(self) -> str:
        if self.encoding != "legacy":
            return self.encoding
        found = "cp1252" if self.cp1252_needed else "latin-1"
        if self.utf8_lines:
            found += f", {self.utf8_lines} lines utf-8"
        return found


class _Conversions(Forked):
    """The file's rows in chunks, each row converted: ``(row, facts or reject, content hash)``,
    with how far the file has been read after each chunk.

    Reading, ``to_facts`` and the content hash are about half of an import's work, all of it
    Python; the other half is the database's. With ``parallel``, a forked child process does
    the first half and sends each converted chunk while this process writes the previous one,
    so both cores work (``salama.core.forked``). ``encoding_found`` is known at the end.
    """

    def __init__(self, reading, lines, convert, chunk_size: int, parallel: bool):
        self.reading, self.lines, self.convert = reading, lines, convert
        self.chunk_size = chunk_size
        super().__init__(self._produce, enabled=parallel)

    def _produce(self) -> Generator[tuple[list, int], None, str]:
        for chunk in _chunks(self.reading.rows, self.chunk_size):
            converted = self.convert(chunk)
            yield converted, getattr(self.reading, "bytes_read", None) or self.lines.bytes_read
        return self.lines.encoding_found()

    @property
    def encoding_found(self) -> str:
        return self.result or ""


@contextlib.contextmanager
def _fewer_collections(allocations: int = 100_000):
    """Run Python's cycle collector every ``allocations`` container allocations instead of
    every 700 while a batch goes through.

    An import allocates millions of short-lived dicts and lists (rows, facts, row tuples),
    which are freed by reference counting; the collector, run every 700 allocations, walks
    them for cycles they do not have: 40 % of ``to_facts`` and 80 % of unpickling a chunk.
    Cycles are still collected, just less often; the old thresholds come back afterwards.
    """
    before = gc.get_threshold()
    gc.set_threshold(allocations, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


_BASE32_TO_REFERENCE = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", REFERENCE_ALPHABET.encode()
)


def new_references(n: int) -> list[str]:
    """``n`` references like ``services.new_reference()`` (50 random bits, same alphabet),
    drawn from the OS's random source in one call instead of ten calls each."""
    while True:
        blocks = (10 * n + 7) // 8
        text = base64.b32encode(os.urandom(5 * blocks)).translate(_BASE32_TO_REFERENCE).decode()
        references = [f"SAL-{text[i : i + 10]}" for i in range(0, 10 * n, 10)]
        if len(set(references)) == n:
            return references


# The canonical JSON of content_hash, made once: the same text as
# ``json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)``, which stored
# hashes were made with, without building an encoder per row.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), default=str, check_circular=False
).encode


def content_hash(facts: Facts) -> str:
    """Fingerprint of a row's normalised facts (not of its spelling): same hash, same facts."""
    sources = [
        {k: v for k, v in s.items() if k != "note"} if "note" in s else s for s in facts.sources
    ]
    payload = [facts.fields, facts.persons, facts.totals, sources]
    return hashlib.sha256(_CANONICAL(payload).encode()).hexdigest()


def _storable(raw: dict) -> dict:
    """The raw row as JSON the database accepts (PostgreSQL refuses NUL characters)."""

    def clean(value):
        if isinstance(value, str):
            return value.replace("\x00", "\ufffd")
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return {clean(str(k)): clean(v) for k, v in raw.items()}


class _Table:
    """Plain bulk inserts for one model: COPY on PostgreSQL, executemany elsewhere.

    Django's ``bulk_create`` spends most of an import building model instances and preparing
    each of their values (about 0.3 ms a row here); this sends the rows as they are, with the
    model's defaults, and adapts only dates and datetimes. Each row is a dict of field
    attnames; missing ones take the model's default. The ``id`` column is written too when the
    rows carry it (ids reserved up front, see ``_Run._create``).
    """

    def __init__(self, model, with_id: bool = False):
        qn = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.names = [f.attname for f in fields]
        self.defaults = {
            f.attname: f.get_default() for f in fields if not (with_id and f.primary_key)
        }
        # itemgetter builds the row's tuple in C; a 1-column table would give a bare value.
        self.getter = operator.itemgetter(*self.names) if len(fields) > 1 else None
        self.adapters = [
            (index, adapt) for index, f in enumerate(fields) if (adapt := self._adapter(f))
        ]
        columns = ", ".join(qn(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"
        self.copy_sql = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"

    @staticmethod
    def _adapter(field):
        if isinstance(field, DateTimeField):
            adapt, kind = connection.ops.adapt_datetimefield_value, datetime.datetime
        elif isinstance(field, DateField):
            adapt, kind = connection.ops.adapt_datefield_value, datetime.date
        else:
            return None
        # Values already adapted (the chunk's timestamps, adapted once) pass through.
        return lambda value: adapt(value) if isinstance(value, kind) else value

    def values(self, row: dict) -> tuple:
        merged = {**self.defaults, **row}
        values = self.getter(merged) if self.getter else (merged[self.names[0]],)
        if self.adapters:
            values = list(values)
            for index, adapt in self.adapters:
                values[index] = adapt(values[index])
            values = tuple(values)
        return values

    def insert(self, rows: Iterable[dict]) -> None:
        values = self.values
        params = [values(row) for row in rows]
        if not params:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY is PostgreSQL's bulk path: several times faster than INSERTs. The
                # driver's own cursor raises the driver's errors: wrap them as Django's.
                with connection.wrap_database_errors, cursor.cursor.copy(self.copy_sql) as copy:
                    for row in params:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, params)


@cache
def _table(model, with_id: bool = False) -> _Table:
    return _Table(model, with_id)


class _SeenIds:
    """The external ids a batch has taken so far, to quarantine a later row with the same id.

    Kept in a temporary table of the batch's own database connection, not in a Python set:
    a set of a million ids costs some 100 MB and, scattered among the chunks' short-lived
    objects, keeps far more of the process's memory from being reused, so the import's
    memory grew with the file. The table goes with the connection, or at ``close()``.
    """

    def __init__(self, batch_pk: int):
        self.table = connection.ops.quote_name(f"salama_import_seen_{batch_pk}")
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.table} (external_id text PRIMARY KEY)"
            )

    def earlier(self, external_ids: list[str]) -> set[str]:
        """Those of ``external_ids`` taken by earlier chunks."""
        found = set()
        with connection.cursor() as cursor:
            for start in range(0, len(external_ids), LOOKUP_SLICE):
                part = external_ids[start : start + LOOKUP_SLICE]
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(
                    f"SELECT external_id FROM {self.table} WHERE external_id IN ({marks})", part
                )
                found.update(row[0] for row in cursor.fetchall())
        return found

    def add(self, external_ids: list[str]) -> None:
        """Take ``external_ids`` (none of them taken yet)."""
        if not external_ids:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with (
                    connection.wrap_database_errors,
                    cursor.cursor.copy(f"COPY {self.table} (external_id) FROM STDIN") as copy,
                ):
                    for external_id in external_ids:
                        copy.write_row((external_id,))
            else:
                cursor.executemany(
                    f"INSERT INTO {self.table} (external_id) VALUES (%s)",
                    [(external_id,) for external_id in external_ids],
                )

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")


class _Run:
    """The state of one batch while its chunks go through."""

    def __init__(self, batch: ImportBatch, fmt, reading, user):
        self.batch = batch
        self.fmt = fmt
        self.layout = reading.layout
        # A reading may carry its own converter (a format driven by a saved column mapping).
        self.to_facts = reading.to_facts or fmt.to_facts
        self.user = user if getattr(user, "pk", None) else None
        self.context = Context(
            latest_date=latest_allowed_date(),
            tolerance_km=settings.COORDINATE_BORDER_TOLERANCE_KM,
        )
        self.seen = _SeenIds(batch.pk)
        self.analyze_at = ANALYZE_FROM
        self.reasons: Counter = Counter(batch.reasons)
        self.notes: dict = dict(batch.notes)

    # -- one chunk ------------------------------------------------------------------------

    def convert(self, rows: list[Row]) -> list[tuple[Row, Facts | Reject, str]]:
        """The chunk's rows as facts (with their content hash) or rejects. Touches no
        database: this may run in the reading process (see :class:`_Conversions`)."""
        converted = []
        for row in rows:
            result = row.problem or self._facts(row)
            digest = "" if isinstance(result, Reject) else content_hash(result)
            converted.append((row, result, digest))
        return converted

    def import_chunk(self, rows: list[tuple[Row, Facts | Reject, str]]) -> None:
        """Write one chunk of converted rows (see :meth:`convert`), in one transaction."""
        rejected: list[tuple[Row, Reject]] = []
        accepted: dict[str, tuple[Row, Facts, str]] = {}
        notes: list[tuple[int, str, str]] = []
        earlier = self.seen.earlier(
            [result.external_id for _, result, _ in rows if not isinstance(result, Reject)]
        )
        for row, result, digest in rows:
            if isinstance(result, Reject):
                rejected.append((row, result))
            elif result.external_id in earlier or result.external_id in accepted:
                rejected.append(
                    (
                        row,
                        Reject(
                            "duplicate_id",
                            f"The ID {result.external_id!r} appears earlier in this file; "
                            "only its first row was imported.",
                        ),
                    )
                )
            else:
                accepted[result.external_id] = (row, result, digest)
                notes.extend((row.number, code, text) for code, text in result.notes)
        self.seen.add(list(accepted))

        existing = self._existing(list(accepted))
        new, unchanged, changed = [], 0, []
        for external_id, item in accepted.items():
            found = existing.get(external_id)
            if found is None:
                new.append(item)
            elif found["content_hash"] == item[2]:
                unchanged += 1
            else:
                changed.append((item, found))
        conflicts = self._conflicts(changed)
        rejected += [(item[0], conflicts[id(item)]) for item, _ in changed if id(item) in conflicts]
        changed = [(item, found) for item, found in changed if id(item) not in conflicts]

        try:
            with transaction.atomic():
                created = self._create(new)
                for item, found in changed:
                    self._update(*item, found)
                self._quarantine(rejected)
                state = self._count(len(rows), created, len(changed), unchanged, rejected, notes)
        except DatabaseError:
            # One row the database refuses must not lose the others: go row by row.
            state = self._one_by_one(rows, new, changed, unchanged, rejected, notes)
        self._counted(state)
        self._refresh_statistics()

    def _refresh_statistics(self) -> None:
        """Keep PostgreSQL's table statistics up with a large import.

        PostgreSQL plans the chunk lookups from its statistics; a big import outgrows them
        long before autovacuum catches up, and the lookups turn into scans of every source
        (15 times slower at 100,000 rows). So ANALYZE the tables they read each time the batch
        has doubled what it created: a few times per million rows, about 0.2 s each.
        """
        if connection.vendor != "postgresql" or self.batch.created < self.analyze_at:
            return
        qn = connection.ops.quote_name
        tables = ", ".join(qn(m._meta.db_table) for m in (Source, Incident))
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")
        self.analyze_at = 2 * self.batch.created

    def _facts(self, row: Row) -> Facts | Reject:
        try:
            return self.to_facts(row.raw, self.layout, self.context)
        except Exception as exc:  # a format's bug must not lose the other rows
            return Reject(
                "unreadable_row",
                f"The {self.fmt.NAME} importer could not read this row "
                f"({type(exc).__name__}: {exc}).",
            )

    def _existing(self, external_ids: list[str]) -> dict[str, dict]:
        found = {}
        for start in range(0, len(external_ids), LOOKUP_SLICE):
            part = external_ids[start : start + LOOKUP_SLICE]
            # The exclude() repeats the unique index's condition: without it, SQLite and
            # PostgreSQL cannot use that partial index and scan every source, per chunk.
            for source in (
                Source.objects.filter(system=self.fmt.SOURCE_SYSTEM, external_id__in=part)
                .exclude(external_id="")
                .values(
                    "id",
                    "external_id",
                    "content_hash",
                    "incident_id",
                    "incident__organisation_id",
                    "incident__reference",
                )
            ):
                found[source["external_id"]] = source
        return found

    def _conflicts(self, changed) -> dict[int, Reject]:
        """Changed rows the import must not apply: another organisation's incident, or one
        merged with reports from elsewhere (overwriting it would lose them)."""
        if not changed:
            return {}
        incident_ids = [found["incident_id"] for _, found in changed]
        sources_of = dict(
            Source.objects.filter(incident_id__in=incident_ids)
            .values("incident_id")
            .annotate(n=Count("id"))
            .values_list("incident_id", "n")
        )
        conflicts = {}
        for item, found in changed:
            reference = found["incident__reference"]
            if found["incident__organisation_id"] != self.batch.organisation_id:
                conflicts[id(item)] = Reject(
                    "owned_by_another_organisation",
                    f"The row changes {reference}, which another organisation owns; "
                    "the import does not change other organisations' incidents.",
                )
            elif sources_of.get(found["incident_id"], 0) > 1:
                conflicts[id(item)] = Reject(
                    "merged_incident",
                    f"The row changes {reference}, which was merged with other reports; "
                    "apply the change by hand so the other reports' facts are kept.",
                )
        return conflicts

    def _create(self, items: list[tuple[Row, Facts, str]]) -> int:
        """Insert the chunk's new incidents with their persons, totals and sources.

        Incident ids are reserved up front (one query), so the other rows can point at them
        without reading anything back. A chunk of ``DEFER_SEARCH_FROM`` incidents or more
        leaves SQLite's search index to the catch-up at the end of the batch
        (``search_index``). Called inside the chunk's transaction.
        """
        if not items:
            return 0
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        workflow = {
            "organisation_id": self.batch.organisation_id,
            "reported_by_id": self.user.pk if self.user else None,
            "status": self.fmt.STATUS,
            "closed_at": now if self.fmt.STATUS == c.Status.CLOSED else None,
            "created_at": now,
            "updated_at": now,
        }
        ids = reserve_incident_ids(len(items))
        references = new_references(len(items))
        note = f"Imported by batch #{self.batch.pk}"
        incidents, persons, totals, sources = [], [], [], []
        for incident_id, reference, (_, facts, digest) in zip(ids, references, items, strict=True):
            incident = {**facts.fields, **workflow, "id": incident_id, "reference": reference}
            incidents.append(incident)
            for person in facts.persons:
                persons.append({**person, "incident_id": incident_id})
            for total in facts.totals:
                totals.append({**total, "incident_id": incident_id})
            for source in facts.sources:
                sources.append(
                    {**self._source(source, facts, digest, note), "incident_id": incident_id}
                )
        with connection.cursor() as cursor:
            deferring = len(ids) >= DEFER_SEARCH_FROM
            with (
                search_index.deferred(cursor, ids[0], ids[-1])
                if deferring
                else contextlib.nullcontext()
            ):
                _table(Incident, with_id=True).insert(incidents)
        _table(AffectedPerson).insert(persons)
        _table(ReportedTotal).insert(totals)
        _table(Source).insert(sources)
        return len(items)

    def _source(self, source: dict, facts: Facts, digest: str, note: str) -> dict:
        identity = (
            source.get("system") == self.fmt.SOURCE_SYSTEM
            and source.get("external_id") == facts.external_id
        )
        return {"note": note, **source, "content_hash": digest if identity else ""}

    def _update(self, row: Row, facts: Facts, digest: str, found: dict) -> None:
        incident = Incident.objects.select_for_update().get(pk=found["incident_id"])
        before = full_snapshot(incident)
        for name, value in facts.fields.items():
            setattr(incident, name, value)
        incident.version = F("version") + 1
        incident.save()
        incident.refresh_from_db()
        incident.persons.all().delete()
        AffectedPerson.objects.bulk_create(
            [AffectedPerson(incident=incident, **p) for p in facts.persons]
        )
        incident.totals.all().delete()
        ReportedTotal.objects.bulk_create(
            [ReportedTotal(incident=incident, **t) for t in facts.totals]
        )
        # Only the row's own source changes: a merged incident keeps its other sources.
        identity = next((s for s in facts.sources if s.get("external_id") == facts.external_id), {})
        Source.objects.filter(pk=found["id"]).update(
            kind=identity.get("kind", c.SourceKind.DATABASE_IMPORT),
            content_hash=digest,
            note=f"Updated by batch #{self.batch.pk} (row {row.number})",
        )
        audit.record(
            "import:update",
            actor=self.user,
            obj=incident,
            before=before,
            after=full_snapshot(incident),
        )

    def _quarantine(self, rejected: list[tuple[Row, Reject]]) -> None:
        QuarantinedRow.objects.bulk_create(
            [
                QuarantinedRow(
                    batch_id=self.batch.pk,
                    row_number=row.number,
                    raw=_storable(row.raw),
                    reason=reject.reason[:60],
                    message=f"Row {row.number}: {reject.message}",
                )
                for row, reject in rejected
            ]
        )

    def _one_by_one(self, rows, new, changed, unchanged, rejected, notes) -> dict:
        created = updated = 0
        rejected = list(rejected)
        for item in new:
            try:
                with transaction.atomic():
                    created += self._create([item])
            except DatabaseError as exc:
                rejected.append((item[0], self._refused(exc)))
        for item, found in changed:
            try:
                with transaction.atomic():
                    self._update(*item, found)
                    updated += 1
            except DatabaseError as exc:
                rejected.append((item[0], self._refused(exc)))
        with transaction.atomic():
            self._quarantine(rejected)
            return self._count(len(rows), created, updated, unchanged, rejected, notes)

    @staticmethod
    def _refused(exc: Exception) -> Reject:
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        return Reject("database_error", f"The database refused this row ({detail}).")

    # -- counters, notes, the end ---------------------------------------------------------

    def _count(self, read, created, updated, unchanged, rejected, notes) -> dict:
        """Save the counters with the chunk, in its transaction. The caller keeps them in
        memory only once that transaction went through (a chunk that rolls back must not
        count)."""
        batch = self.batch
        reasons = Counter(self.reasons)
        reasons.update(reject.reason for _, reject in rejected)
        all_notes = {
            code: {**entry, "examples": list(entry["examples"])}
            for code, entry in self.notes.items()
        }
        for number, code, text in notes:
            entry = all_notes.setdefault(code, {"count": 0, "examples": []})
            entry["count"] += 1
            if len(entry["examples"]) < NOTE_EXAMPLES:
                entry["examples"].append(f"Row {number}: {text}")
        state = {
            "rows_read": batch.rows_read + read,
            "created": batch.created + created,
            "updated": batch.updated + updated,
            "unchanged": batch.unchanged + unchanged,
            "quarantined": batch.quarantined + len(rejected),
            "reasons": dict(reasons),
            "notes": all_notes,
        }
        ImportBatch.objects.filter(pk=batch.pk).update(**state)
        return state

    def _counted(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self.batch, name, value)
        self.reasons = Counter(state["reasons"])
        self.notes = state["notes"]

    def finish(self, state: str, error: str = "") -> None:
        with contextlib.suppress(DatabaseError):
            self.seen.close()
        batch = self.batch
        batch.state = state
        batch.error = error[:2000]
        batch.finished_at = timezone.now()
        with transaction.atomic():
            batch.save()
            audit.record("import", actor=self.user, obj=batch, after=batch.report())
