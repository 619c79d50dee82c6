"""A large AWSD-layout CSV for the import benchmark: the shipped file's rows, resampled.

Rows are drawn with replacement (seeded) from ``salama/interchange/data/awsd/awsd_1997-2022.csv``
and given new, unique Incident IDs, so every row is a new incident for the importer. The
shipped file's warts (blank days, a future date, unknown countries) come along in proportion.
"""

import csv
import random
from pathlib import Path

SHIPPED = (
    Path(__file__).resolve().parent.parent
    / "salama"
    / "interchange"
    / "data"
    / "awsd"
    / "awsd_1997-2022.csv"
)


def make(rows: int, path: Path, seed: int = 1997) -> Path:
    """Write ``rows`` resampled rows to ``path`` (UTF-8, the public 41-column layout)."""
    with SHIPPED.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        source = list(reader)
    id_column = header.index("Incident ID")
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for number in range(1, rows + 1):
            row = list(rng.choice(source))
            row[id_column] = str(1_000_000 + number)
            writer.writerow(row)
    partial.replace(path)
    return path


def cached(rows: int, directory: Path) -> Path:
    """The file for ``rows`` rows, made once and reused by later runs."""
    path = directory / f"awsd_resampled_{rows}.csv"
    return path if path.exists() else make(rows, path)
