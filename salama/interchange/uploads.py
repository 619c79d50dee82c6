"""The import page's rules: who may upload, where uploads go, and the preview before committing.

A person with the analyst or organisation-admin role of an organisation uploads a file for it;
the file is stored under ``DATA_DIR/uploads/<token>/`` (never under a name the person chose),
refused above ``UPLOAD_LIMIT`` bytes. The preview reads only the first rows with the format's own
reader and converter, exactly as the import will, and reports for each whether it would be
imported (and with which date, country and people) or quarantined (and why). Nothing is written
to the incidents until the person commits; the commit runs the ordinary batch import (in the
request, hence the limit) and deletes the stored file. Files never imported are deleted after
``KEEP_UNIMPORTED`` (at the next upload, or by ``salama uploads discard``).
"""

import datetime
import io
import itertools
import logging
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.utils import timezone

from salama.core import audit
from salama.incidents.validators import latest_allowed_date
from salama.interchange import formats
from salama.interchange.formats import Context, Facts, ImportRefused, Reject
from salama.interchange.models import ColumnMapping, Upload
from salama.interchange.reading import LINE_LIMIT, SNIFF_BYTES, detect_encoding, open_table
from salama.interchange.runner import run_import
from salama.organisations.choices import Role
from salama.organisations.models import Membership

logger = logging.getLogger(__name__)

# The import runs in the request: about 50,000 rows at most, a minute or two. Larger files go
# through ``salama import``.
UPLOAD_LIMIT = getattr(settings, "SALAMA_IMPORT_UPLOAD_LIMIT", 25 * 1024 * 1024)
PREVIEW_ROWS = 20
IMPORTING_ROLES = (Role.ANALYST, Role.ORG_ADMIN)
# Formats whose columns are given by a mapping the person edits on the page.
MAPPED = {"table", "kobo"}
HASHTAGS = {"hxl"}


# Files previewed but never imported are deleted after this long: an upload may hold
# sensitive details, and one nobody imports should not stay on the server.
KEEP_UNIMPORTED = datetime.timedelta(days=7)


class UploadRefused(Exception):
    """The upload cannot be taken; the message says why, for a person to read."""


def discard_unimported(older_than: datetime.timedelta = KEEP_UNIMPORTED, *, now=None) -> int:
    """Delete the files (and records) of uploads never imported and older than
    ``older_than``; each one is written to the audit log. Returns how many."""
    cutoff = (now or timezone.now()) - older_than
    stale = Upload.objects.filter(batch__isnull=True, created_at__lt=cutoff)
    discarded = 0
    for upload in stale.iterator():
        try:
            folder = stored_path(upload).parent
        except UploadRefused:
            folder = None  # a record pointing outside the uploads folder: touch nothing there
        if folder is not None and folder != upload_dir().resolve():
            shutil.rmtree(folder, ignore_errors=True)
        audit.record(
            "upload:discard",
            obj=upload,
            before={
                "filename": upload.filename,
                "format": upload.format,
                "organisation": upload.organisation_id,
                "created_at": upload.created_at,
            },
        )
        upload.delete()
        discarded += 1
    return discarded


def importing_organisations(user):
    """The organisations ``user`` may import for: those where they are analyst or admin."""
    from salama.organisations.models import Organisation

    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    ids = Membership.objects.filter(user=user, role__in=IMPORTING_ROLES).values("organisation_id")
    return Organisation.objects.filter(pk__in=ids).order_by("acronym")


def may_import(user, organisation_id) -> bool:
    return importing_organisations(user).filter(pk=organisation_id).exists()


def upload_dir() -> Path:
    return Path(settings.DATA_DIR) / "uploads"


def store_upload(*, user, organisation, format_name: str, uploaded, sheet: str = "") -> Upload:
    """Keep an uploaded file (a Django ``UploadedFile``) for preview; UploadRefused if not."""
    if not may_import(user, organisation.pk):
        raise UploadRefused("You may import only for organisations where you are analyst or admin.")
    formats.get(format_name)
    if uploaded.size > UPLOAD_LIMIT:
        raise UploadRefused(
            f"The file is {uploaded.size:,} bytes; the limit is {UPLOAD_LIMIT:,}. "
            "Import larger files with the salama import command."
        )
    discard_unimported()  # each new upload clears the abandoned ones
    token = secrets.token_hex(16)
    folder = upload_dir() / token
    folder.mkdir(parents=True, exist_ok=False)
    suffix = Path(uploaded.name or "").suffix.lower()
    suffix = suffix if suffix in {".csv", ".txt", ".tsv", ".xlsx", ".json"} else ".upload"
    target = folder / f"upload{suffix}"
    written = 0
    with open(target, "wb") as handle:
        for chunk in uploaded.chunks():
            written += len(chunk)
            if written > UPLOAD_LIMIT:
                handle.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise UploadRefused(f"The file is larger than the limit ({UPLOAD_LIMIT:,} bytes).")
            handle.write(chunk)
    return Upload.objects.create(
        token=token,
        organisation=organisation,
        uploaded_by=user,
        format=format_name,
        filename=Path(uploaded.name or "upload").name[:300],
        stored_as=str(target.relative_to(upload_dir())),
        size=written,
        sheet=sheet[:100],
    )


def stored_path(upload: Upload) -> Path:
    path = (upload_dir() / upload.stored_as).resolve()
    if upload_dir().resolve() not in path.parents:
        raise UploadRefused("The stored file is not where uploads are kept.")
    return path


# -- preview -----------------------------------------------------------------------------


@dataclass
class PreviewRow:
    number: int
    cells: list[str]
    outcome: str  # "import" or "quarantine"
    summary: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Preview:
    layout: str = ""
    encoding: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)
    refused: str = ""
    mapping_text: str = ""
    mapping_fixed: bool = True

    @property
    def importable(self) -> int:
        return sum(row.outcome == "import" for row in self.rows)

    @property
    def quarantined(self) -> int:
        return sum(row.outcome == "quarantine" for row in self.rows)


def _text_lines(path: Path):
    with open(path, "rb") as handle:
        encoding, errors = detect_encoding(handle.read(SNIFF_BYTES))
    handle = open(path, "rb")  # noqa: SIM115 (closed by the generator)
    text = io.TextIOWrapper(handle, encoding=encoding, errors=errors, newline="")

    def lines():
        try:
            while line := text.readline(LINE_LIMIT):
                yield line
        finally:
            handle.close()

    return lines()


def suggested_mapping(header: list[str]) -> dict:
    """A first mapping from the column names, for the person to correct."""

    def pick(*words):
        for word in words:
            for column in header:
                if word in column.casefold():
                    return column
        return ""

    spec = {
        "name": "my-mapping",
        "id": pick("id", "ref", "uuid", "number"),
        "date": pick("date", "when", "day"),
        "country": pick("country", "iso", "pays"),
        "fields": {
            "subcategory": {"column": pick("type", "category"), "default": "violence_unknown"},
        },
        "persons": [],
    }
    for word, impact in (("killed", "killed"), ("injured", "injured"), ("wounded", "injured")):
        column = pick(word)
        if column:
            spec["persons"].append({"column": column, "impact": impact})
    if place := pick("place", "town", "city", "location"):
        spec["fields"]["place"] = place
    if narrative := pick("description", "narrative", "details", "what"):
        spec["fields"]["narrative"] = narrative
    if not spec["fields"]["subcategory"]["column"]:
        spec["fields"]["subcategory"] = {"value": "", "default": "violence_unknown"}
    return {k: v for k, v in spec.items() if v not in ("", None)}


def parse_mapping_text(text: str) -> dict:
    try:
        spec = yaml.safe_load(text or "") or {}
    except yaml.YAMLError as exc:
        raise ImportRefused(f"The mapping is not valid YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise ImportRefused("The mapping must be a set of 'key: value' lines.")
    return spec


def mapping_yaml(spec: dict) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def reader_options(upload: Upload, spec: dict | None) -> dict:
    options = {}
    if upload.sheet:
        options["sheet"] = upload.sheet
    if upload.format in MAPPED or (upload.format in HASHTAGS and spec):
        options["mapping"] = spec or {}
    return options


def preview(upload: Upload, spec: dict | None = None, limit: int = PREVIEW_ROWS) -> Preview:
    """The first ``limit`` rows as the import would take them. Never raises for a bad file:
    the reason is in ``Preview.refused``."""
    result = Preview(mapping_fixed=upload.format not in MAPPED | HASHTAGS)
    path = stored_path(upload)
    fmt = formats.get(upload.format)
    if upload.format in MAPPED and not spec:
        try:
            spec = suggested_mapping(open_table(path, sheet=upload.sheet or None).header)
        except ImportRefused as exc:
            result.refused = str(exc)
            return result
        except Exception as exc:  # a broken file must not break the page
            logger.warning("preview of upload %s failed: %r", upload.pk, exc)
            result.refused = f"The file could not be read ({type(exc).__name__})."
            return result
    if spec:
        result.mapping_text = mapping_yaml(spec)
    try:
        if hasattr(fmt, "read_file"):
            reading = fmt.read_file(path, **reader_options(upload, spec))
        else:
            reading = fmt.read(_text_lines(path))
        result.layout = reading.layout
        result.encoding = reading.encoding or getattr(reading, "encoding", "")
        table = getattr(reading, "table", None)
        if getattr(reading, "mapping", None) and not result.mapping_text:
            result.mapping_text = mapping_yaml(reading.mapping)
        to_facts = reading.to_facts or fmt.to_facts
        context = Context(latest_allowed_date(), settings.COORDINATE_BORDER_TOLERANCE_KM)
        rows = list(itertools.islice(reading.rows, limit))
    except ImportRefused as exc:
        result.refused = str(exc)
        return result
    except Exception as exc:  # a broken file must not break the page
        logger.warning("preview of upload %s failed: %r", upload.pk, exc)
        result.refused = f"The file could not be read ({type(exc).__name__})."
        return result
    header = list(table.header) if table is not None else []
    if not header and rows:
        header = [k for k in rows[0].raw if not k.startswith("_")]
    result.header = header[:60]
    for row in rows:
        cells = [str(row.raw.get(h, ""))[:80] for h in result.header]
        outcome = row.problem
        if outcome is None:
            try:
                outcome = to_facts(row.raw, reading.layout, context)
            except Exception as exc:  # as the runner does: a format's bug quarantines the row
                outcome = Reject("unreadable_row", f"{type(exc).__name__}: {exc}")
        result.rows.append(_row(row.number, cells, outcome))
    return result


def _row(number: int, cells: list[str], outcome) -> PreviewRow:
    if isinstance(outcome, Reject):
        return PreviewRow(number, cells, "quarantine", f"{outcome.reason}: {outcome.message}")
    facts: Facts = outcome
    people = sum(p["count"] for p in facts.persons)
    fields = facts.fields
    summary = (
        f"{facts.external_id}: {fields['date']} ({fields['date_precision']}), "
        f"{fields['country']}, {fields.get('subcategory', '')}, {people} person(s)"
    )
    return PreviewRow(number, cells, "import", summary, [text for _, text in facts.notes])


# -- mappings and the commit -------------------------------------------------------------


def save_mapping(*, user, organisation, name: str, format_name: str, spec: dict) -> ColumnMapping:
    if not may_import(user, organisation.pk):
        raise UploadRefused("You may save mappings only for organisations you import for.")
    mapping, _ = ColumnMapping.objects.update_or_create(
        organisation=organisation,
        name=name,
        defaults={"format": format_name, "spec": {**spec, "name": name}, "created_by": user},
    )
    return mapping


def commit(upload: Upload, *, user, spec: dict | None = None):
    """Run the import of an uploaded file; its batch report is the result."""
    if not may_import(user, upload.organisation_id):
        raise UploadRefused("You may import only for organisations where you are analyst or admin.")
    if upload.batch_id:
        raise UploadRefused("This file was already imported.")
    path = stored_path(upload)
    batch = run_import(
        upload.format,
        path,
        organisation=upload.organisation,
        user=user,
        options=reader_options(upload, spec),
    )
    batch.filename = upload.filename
    batch.save(update_fields=["filename"])
    upload.batch = batch
    upload.save(update_fields=["batch"])
    # The batch keeps the file's sha256 and every quarantined row: the upload itself, which
    # may hold sensitive details, is not kept once imported.
    shutil.rmtree(path.parent, ignore_errors=True)
    return batch
