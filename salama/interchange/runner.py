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

Speed: each chunk costs a handful of queries whatever its size: one to find the chunk's
existing sources, one bulk insert per table, one to save the counters, all in one
transaction. No ``full_clean`` per row: formats validate with plain functions and cached
coordinate checks. Created incidents get no audit entry each (a million would take hours):
the batch's audit entry and the incident's Source row (``note`` names the batch) record them.
Updates are rare and go one by one, each with its own audit entry.
"""

import base64
import codecs
import contextlib
import datetime
import hashlib
import itertools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, DateField, DateTimeField, F
from django.utils import timezone

from salama.core import audit
from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident, ReportedTotal, Source
from salama.incidents.services import REFERENCE_ALPHABET, full_snapshot
from salama.incidents.validators import latest_allowed_date
from salama.interchange import formats
from salama.interchange.formats import Context, Facts, ImportRefused, Reject, Row
from salama.interchange.models import ImportBatch, QuarantinedRow
from salama.organisations.models import Organisation

CHUNK_SIZE = 2000
# Lines longer than this are handed to the CSV reader in pieces, so one broken line (a
# missing closing quote, a binary file) cannot take the memory with it.
LINE_LIMIT = 1 << 20
# How many examples each kind of note keeps in the batch report.
NOTE_EXAMPLES = 20
# Source lookups per query; stays under every database's parameter limit.
LOOKUP_SLICE = 500
# PostgreSQL: refresh table statistics once a batch has created this many incidents.
ANALYZE_FROM = 5000

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
) -> ImportBatch:
    """Import the file at ``path`` with the format ``format_name``; return its batch.

    ``options`` go to the format's reader as keyword arguments (a saved column mapping, a
    sheet name…). A format that reads bytes itself (XLSX, JSON) defines
    ``read_file(path, **options)``; the others get decoded lines, ``read(lines, **options)``.

    Raises :class:`ImportRefused` (before any batch exists) when the format is unknown, the
    file is missing or it is not in that format. Anything unexpected later marks the batch
    "failed" with the error, and is raised again; chunks already committed stay, and
    importing the file again picks up where it stopped (idempotency).
    """
    fmt = formats.get(format_name)
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file.")
    sha256, encoding = inspect_file(path)
    total_bytes = path.stat().st_size
    options = options or {}
    with path.open("rb") as handle:
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
        try:
            for chunk in _chunks(reading.rows, chunk_size):
                run.import_chunk(chunk)
                if progress:
                    done = getattr(reading, "bytes_read", None) or lines.bytes_read
                    progress(done, total_bytes, batch.rows_read)
        except BaseException as exc:
            # The original error matters more than a failure to record it.
            with contextlib.suppress(DatabaseError):
                run.finish(ImportBatch.State.FAILED, error=f"{type(exc).__name__}: {exc}")
            raise
        if not hasattr(fmt, "read_file"):
            batch.encoding = lines.encoding_found()[:30]
        run.finish(ImportBatch.State.DONE)
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


def content_hash(facts: Facts) -> str:
    """Fingerprint of a row's normalised facts (not of its spelling): same hash, same facts."""
    sources = [{k: v for k, v in s.items() if k != "note"} for s in facts.sources]
    payload = [facts.fields, facts.persons, facts.totals, sources]
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    model's defaults, and adapts only dates and datetimes.
    """

    def __init__(self, model):
        qn = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.columns = [(f.attname, f.get_default(), self._adapter(f)) for f in fields]
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
        return tuple(
            adapt(row.get(name, default)) if adapt else row.get(name, default)
            for name, default, adapt in self.columns
        )

    def insert(self, rows: Iterable[dict]) -> None:
        params = [self.values(row) for row in rows]
        if not params:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY is PostgreSQL's bulk path: several times faster than INSERTs. The
                # driver's own cursor raises the driver's errors: wrap them as Django's.
                with connection.wrap_database_errors, cursor.cursor.copy(self.copy_sql) as copy:
                    for values in params:
                        copy.write_row(values)
            else:
                cursor.executemany(self.sql, params)


@cache
def _table(model) -> _Table:
    return _Table(model)


def _ids_of(references: list[str]) -> dict[str, int]:
    ids = {}
    for start in range(0, len(references), LOOKUP_SLICE):
        part = references[start : start + LOOKUP_SLICE]
        ids.update(Incident.objects.filter(reference__in=part).values_list("reference", "id"))
    return ids


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
        self.seen: set[str] = set()
        self.analyze_at = ANALYZE_FROM
        self.reasons: Counter = Counter(batch.reasons)
        self.notes: dict = dict(batch.notes)

    # -- one chunk ------------------------------------------------------------------------

    def import_chunk(self, rows: list[Row]) -> None:
        rejected: list[tuple[Row, Reject]] = []
        accepted: dict[str, tuple[Row, Facts, str]] = {}
        notes: list[tuple[int, str, str]] = []
        for row in rows:
            result = row.problem or self._facts(row)
            if isinstance(result, Reject):
                rejected.append((row, result))
            elif result.external_id in self.seen:
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
                self.seen.add(result.external_id)
                accepted[result.external_id] = (row, result, content_hash(result))
                notes.extend((row.number, code, text) for code, text in result.notes)

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
        references = new_references(len(items))
        _table(Incident).insert(
            {**facts.fields, **workflow, "reference": reference}
            for reference, (_, facts, _) in zip(references, items, strict=True)
        )
        ids = _ids_of(references)
        note = f"Imported by batch #{self.batch.pk}"
        persons, totals, sources = [], [], []
        for reference, (_, facts, digest) in zip(references, items, strict=True):
            incident_id = ids[reference]
            persons += [{**p, "incident_id": incident_id} for p in facts.persons]
            totals += [{**t, "incident_id": incident_id} for t in facts.totals]
            sources += [
                {**self._source(s, facts, digest, note), "incident_id": incident_id}
                for s in facts.sources
            ]
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
        batch = self.batch
        batch.state = state
        batch.error = error[:2000]
        batch.finished_at = timezone.now()
        with transaction.atomic():
            batch.save()
            audit.record("import", actor=self.user, obj=batch, after=batch.report())
