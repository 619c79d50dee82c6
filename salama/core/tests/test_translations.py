"""The committed catalogs of the five non-English UN languages are complete, sound and compiled.

The .po files are parsed with a few lines of standard library (no polib); msgfmt, when it is
installed, checks their syntax and formats and compiles them to compare with the committed .mo.
"""

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

LANGUAGES = ["ar", "fr", "es", "ru", "zh_Hans"]
LOCALE = Path(settings.LOCALE_PATHS[0])

# Python %-style (named or not, with flags, width and precision) and str.format-style fields.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%[sdr]|\{\w*\}")
KEYWORD = re.compile(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (\".*\")$")


def po_path(language):
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def parse_po(path):
    """Return the entries of a .po file: dicts of flags and keyword → unquoted text."""
    entries, entry, keyword = [], None, None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#~"):  # blank, or an obsolete entry kept by makemessages
            continue
        if line.startswith("#"):
            if entry is not None and keyword is not None:  # a comment opens the next entry
                entries.append(entry)
                entry, keyword = None, None
            entry = entry or {"flags": set()}
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            continue
        match = KEYWORD.match(line)
        if match:
            keyword, quoted = match.groups()
            opens = keyword in ("msgctxt", "msgid")
            if opens and entry is not None and any(k.startswith("msgstr") for k in entry):
                entries.append(entry)
                entry = None
            entry = entry or {"flags": set()}
            entry[keyword] = ast.literal_eval(quoted)
        elif line.startswith('"') and keyword is not None:
            entry[keyword] += ast.literal_eval(line)
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {line!r}")
    if entry is not None:
        entries.append(entry)
    return entries


def header_and_messages(language):
    entries = parse_po(po_path(language))
    header = entries[0]
    assert header["msgid"] == "", "the header must come first"
    return header, entries[1:]


def placeholders(text):
    return set(PLACEHOLDER.findall(text))


def translations(entry):
    return [v for k, v in entry.items() if k.startswith("msgstr")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_header_names_the_language_and_is_not_fuzzy(language):
    header, _ = header_and_messages(language)
    assert "fuzzy" not in header["flags"]
    fields = dict(line.split(": ", 1) for line in header["msgstr"].splitlines())
    assert fields["Language"] == language
    assert "charset=UTF-8" in fields["Content-Type"]
    assert "LANGUAGE" not in fields["Language-Team"]
    assert "INTEGER" not in fields["Plural-Forms"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_not_fuzzy(language):
    _, messages = header_and_messages(language)
    assert len(messages) > 400
    untranslated = [m["msgid"] for m in messages if not all(translations(m))]
    fuzzy = [m["msgid"] for m in messages if "fuzzy" in m["flags"]]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_the_source(language):
    _, messages = header_and_messages(language)
    wrong = [
        (m["msgid"], text)
        for m in messages
        for text in translations(m)
        if placeholders(text) != placeholders(m["msgid"]) | placeholders(m.get("msgid_plural", ""))
    ]
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_leading_and_trailing_whitespace(language):
    _, messages = header_and_messages(language)

    def edges(text):
        return (text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :])

    wrong = [
        (m["msgid"], text)
        for m in messages
        for text in translations(m)
        if edges(text) != edges(m["msgid"])
    ]
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_yesno_lists_keep_three_comma_separated_words(language):
    _, messages = header_and_messages(language)
    for m in messages:
        if m["msgid"] == "yes,no,unknown":
            assert len(m["msgstr"].split(",")) == 3 and ", " not in m["msgstr"]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_file_is_compiled_from_the_po_file(language, tmp_path):
    po, mo = po_path(language), po_path(language).with_suffix(".mo")
    compiled = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(po)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert mo.exists(), f"{mo} is missing: run `salama compilemessages`"
    if compiled.read_bytes() == mo.read_bytes():
        return
    # Another gettext version may lay the file out differently: compare what it contains.
    with compiled.open("rb") as fresh, mo.open("rb") as committed:
        expected = gettext.GNUTranslations(fresh)._catalog
        actual = gettext.GNUTranslations(committed)._catalog
    stale = sorted(
        str(k) for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k)
    )
    assert stale == [], f"{mo} is stale: run `salama compilemessages`"


@pytest.mark.parametrize(
    ("language", "direction", "sign_in"),
    [("ar", "rtl", "تسجيل الدخول"), ("fr", "ltr", "Se connecter")],
)
def test_the_sign_in_page_speaks_the_browser_language(client, db, language, direction, sign_in):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{language}"' in html
    assert f'dir="{direction}"' in html
    assert f"<h1>{sign_in}</h1>" in html
    assert ">Sign in<" not in html
