"""Export schemes: which columns an export has and how each is computed from the raw facts.

A scheme is a module in this package with:

- ``NAME`` (what people type: ``--scheme awsd``) and ``LABEL`` (what the page shows);
- ``COLUMNS``: a list of :class:`Column` (name, value kind, HXL hashtag);
- ``select(incidents)``: the incidents the scheme writes, narrowed from those the person may
  see (AWSD writes only the incidents it counts);
- ``row(loaded) -> tuple``: one incident (a :class:`~salama.interchange.exports.Loaded`) as
  the values of ``COLUMNS``, in order;
- optionally ``PERSON_COLUMNS`` and ``person_rows(loaded)``: a second table, one row per
  affected-person row, that formats with several tables (XLSX) also write.

Rules live in plain functions here, computed from the stored facts at export time: the
schemes disagree on categories, so nothing scheme-specific is ever stored.
"""

import importlib
import json
import pkgutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# The kinds a column's values may have; writers type their cells by them.
KINDS = ("str", "int", "float", "bool", "date", "time", "datetime")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "str"
    hxl: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}")


class UnknownScheme(ValueError):
    pass


@cache
def registry() -> dict:
    """Scheme name → module, for every module in this package that defines ``row``."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "row") and hasattr(module, "COLUMNS"):
            found[module.NAME] = module
    return dict(sorted(found.items()))


def get(name: str):
    from django.utils.translation import gettext as _

    from salama.interchange.exports import ExportRefused

    try:
        return registry()[name]
    except KeyError:
        message = _("Unknown export scheme '%(name)s'; known schemes: %(known)s.")
        raise ExportRefused(message % {"name": name, "known": ", ".join(registry())}) from None


def load_labels(name: str) -> dict:
    """A scheme's value tables (``data/<name>.json``); keys starting with "_" are comments."""
    table = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))

    def without_comments(value):
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if not k.startswith("_")}
        return value

    return {key: without_comments(value) for key, value in table.items() if key[0] != "_"}
