import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from salama.core.models import AuditEntry
from salama.registry import documents

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in members:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("note.pdf", PDF, "pdf"),
        ("photo.png", PNG, "png"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
        ("letter.docx", _zip(["[Content_Types].xml", "word/document.xml"]), "docx"),
        ("sheet.xlsx", _zip(["[Content_Types].xml", "xl/workbook.xml"]), "xlsx"),
        ("notes.txt", "Note verbale n° 12 reçue — الرد".encode(), "text"),
    ],
)
def test_accepted_kinds_are_stored_by_sha256(case, officer, settings, name, content, kind):
    document = documents.attach(case, officer, SimpleUploadedFile(name, content))
    assert document.kind == kind and document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    stored = (settings.DATA_DIR / "registry" / document.sha256).read_bytes()
    assert content not in stored  # encrypted at rest, like the identities
    assert documents.read_for_download(document, officer) == content


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("virus.pdf", b"MZ\x90\x00\x03" + b"\x00" * 40),  # an executable named .pdf
        ("archive.docx", _zip(["evil.exe"])),  # a zip that is not a Word document
        ("blob.txt", b"\x00\x01\x02binary"),
        ("latin1.txt", "caf\xe9".encode("latin-1") * 10),
    ],
)
def test_other_kinds_are_refused_from_their_content(case, officer, settings, name, content):
    with pytest.raises(ValidationError, match="not accepted"):
        documents.attach(case, officer, SimpleUploadedFile(name, content))
    assert not case.documents.exists()
    folder = settings.DATA_DIR / "registry"
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing written


def test_size_limit(case, officer, settings):
    settings.REGISTRY_MAX_DOCUMENT_BYTES = 100
    with pytest.raises(ValidationError, match="limit"):
        documents.attach(case, officer, SimpleUploadedFile("big.pdf", PDF + b" " * 100))


def test_upload_and_download_pages_log_downloads(client, officer, analyst, case):
    client.force_login(officer)
    response = client.post(
        reverse("registry:document", args=[case.reference]),
        {"file": SimpleUploadedFile("reply.pdf", PDF)},
    )
    assert response.status_code == 302
    document = case.documents.get()
    url = reverse("registry:download", args=[case.reference, document.pk])
    download = client.get(url)
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Type"] == "application/pdf"
    assert AuditEntry.objects.filter(action="registry:document:download").count() == 1
    refused = client.post(
        reverse("registry:document", args=[case.reference]),
        {"file": SimpleUploadedFile("x.pdf", b"MZ" + b"\x00" * 10)},
    )
    assert refused.status_code == 200 and "not accepted" in refused.text
    client.force_login(analyst)
    assert client.get(url).status_code == 404


def test_a_stored_file_swapped_for_another_does_not_open(case, officer, settings):
    from salama.registry import crypto

    first = documents.attach(case, officer, SimpleUploadedFile("a.txt", b"first letter"))
    second = documents.attach(case, officer, SimpleUploadedFile("b.txt", b"second letter"))
    folder = settings.DATA_DIR / "registry"
    (folder / second.sha256).write_bytes((folder / first.sha256).read_bytes())
    with pytest.raises(crypto.CryptoError):
        documents.read_for_download(second, officer)
