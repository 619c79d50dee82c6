"""Documents attached to cases: size-limited, typed from their content, stored by SHA-256.

The type a browser claims and the file name's extension are ignored: a file is accepted only
when its first bytes say it is a PDF, PNG, JPEG, a Word or Excel (OOXML) document, or UTF-8
plain text. Files live under ``DATA_DIR/registry/<sha256 of the content>``, encrypted like the
identities (AES-256-GCM, the key id in the file's first line, the SHA-256 bound in as associated
data), since a note verbale or a medical report names the person too; the same content uploaded
twice is stored once. ``salama registry rotate-key`` re-encrypts them, one file at a time
(written beside and renamed over, so an interruption leaves every file whole). Every download is
written to the audit log.
"""

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from salama.core import audit
from salama.registry import choices as rc
from salama.registry import crypto
from salama.registry.models import Case, Document

MAGIC = b"SALAMA-DOC-1 "
PURPOSE = "document"

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CONTENT_TYPES = {
    rc.DocumentKind.PDF: "application/pdf",
    rc.DocumentKind.PNG: "image/png",
    rc.DocumentKind.JPEG: "image/jpeg",
    rc.DocumentKind.DOCX: (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    rc.DocumentKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    rc.DocumentKind.TEXT: "text/plain; charset=utf-8",
}


def max_bytes() -> int:
    return int(getattr(settings, "REGISTRY_MAX_DOCUMENT_BYTES", DEFAULT_MAX_BYTES))


def storage_dir() -> Path:
    return Path(settings.DATA_DIR) / "registry"


def sniff(content: bytes) -> str | None:
    """The document kind that the content shows, or None when it is none we accept."""
    head = content[:8192]
    if head.startswith(b"%PDF-"):
        return rc.DocumentKind.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return rc.DocumentKind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return rc.DocumentKind.JPEG
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return rc.DocumentKind.DOCX
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return rc.DocumentKind.XLSX
        return None
    if b"\x00" in head:
        return None
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return rc.DocumentKind.TEXT


def seal(content: bytes, sha: str, key=None) -> bytes:
    key_id, blob = crypto.encrypt(content, purpose=PURPOSE, record_id=sha, key=key)
    return MAGIC + key_id.encode() + b"\n" + blob


def key_id_of(stored: bytes) -> str:
    if not stored.startswith(MAGIC):
        raise crypto.CryptoError("not an encrypted Salama document")
    return stored[len(MAGIC) : stored.index(b"\n")].decode()


def unseal(stored: bytes, sha: str) -> bytes:
    key_id = key_id_of(stored)
    blob = stored[stored.index(b"\n") + 1 :]
    content = crypto.decrypt(key_id, blob, purpose=PURPOSE, record_id=sha)
    if hashlib.sha256(content).hexdigest() != sha:
        raise crypto.CryptoError("document content does not match its SHA-256")
    return content


def _write_atomically(path: Path, data: bytes):
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_name, 0o600)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def attach(case: Case, user, upload, *, follow_up=None, milestone=None) -> Document:
    """Store an uploaded file (a Django UploadedFile) on the case after checking it."""
    from salama.registry.services import _require_open, _require_taken_on

    _require_open(user, case)
    _require_taken_on(case)
    limit = max_bytes()
    if upload.size > limit:
        raise ValidationError(
            {
                "file": _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": round(upload.size / 1_048_576, 1), "limit": limit // 1_048_576}
            }
        )
    chunks, size = [], 0
    for chunk in upload.chunks():
        size += len(chunk)
        if size > limit:
            raise ValidationError({"file": _("The file is larger than the limit.")})
        chunks.append(chunk)
    content = b"".join(chunks)
    if not content:
        raise ValidationError({"file": _("The file is empty.")})
    kind = sniff(content)
    if kind is None:
        raise ValidationError(
            {
                "file": _(
                    "This kind of file is not accepted. Attach a PDF, PNG, JPEG, "
                    "Word (DOCX), Excel (XLSX) or plain-text file."
                )
            }
        )
    sha = hashlib.sha256(content).hexdigest()
    folder = storage_dir()
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / sha
    if not final.exists():
        _write_atomically(final, seal(content, sha))
    name = Path(upload.name or "document").name[:200]
    with transaction.atomic():
        document = Document.objects.create(
            case=case,
            follow_up=follow_up,
            milestone=milestone,
            name=name,
            sha256=sha,
            size=size,
            kind=kind,
            uploaded_by=user,
        )
        audit.record(
            "registry:document:upload",
            actor=user,
            obj=case,
            after={"document": document.pk, "sha256": sha, "size": size, "kind": kind},
        )
    return document


def read_for_download(document: Document, user) -> bytes:
    """The document's content, decrypted, for someone who may see the case; logged."""
    from salama.registry.services import can_open

    if not can_open(user, document.case):
        raise PermissionDenied(_("You cannot open this document."))
    content = unseal((storage_dir() / document.sha256).read_bytes(), document.sha256)
    audit.record(
        "registry:document:download",
        actor=user,
        obj=document.case,
        after={"document": document.pk, "sha256": document.sha256},
    )
    return content


def rotate_files(key=None) -> int:
    """Re-encrypt every stored document not yet under the newest key; returns how many."""
    key = key or crypto.current_key()
    folder = storage_dir()
    rotated = 0
    shas = Document.objects.order_by("sha256").values_list("sha256", flat=True).distinct()
    for sha in shas.iterator():
        path = folder / sha
        if not path.exists():
            continue
        stored = path.read_bytes()
        if key_id_of(stored) == key.id:
            continue
        _write_atomically(path, seal(unseal(stored, sha), sha, key=key))
        rotated += 1
    return rotated
