"""``salama link``: find incidents from different sources that are one real event."""

import json

import pyarrow as pa
import pyarrow.compute as pc
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from salama.incidents.models import Incident
from salama.linkage import engine
from salama.linkage.services import AGREEMENT_LABELS, run_linkage


class Command(BaseCommand):
    help = (
        "Run probabilistic record linkage (splink) over the incidents not merged, across "
        "sources, and put the candidate pairs in the review queue. With --dry-run nothing is "
        "stored. --format json prints the pairs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--engine", choices=engine.ENGINES, default="duckdb")
        parser.add_argument(
            "--threshold",
            type=float,
            help="lowest match probability to propose (default: the linkage settings, 0.5)",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--dry-run", action="store_true", help="print the pairs, store nothing")
        parser.add_argument("--user", metavar="USERNAME", help="who runs the linkage")

    def handle(self, *args, **options):
        threshold = options["threshold"]
        if threshold is not None and not 0 < threshold <= 1:
            raise CommandError("--threshold is a probability: more than 0, at most 1.")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
        try:
            result = run_linkage(
                user=user,
                engine_name=options["engine"],
                threshold=threshold,
                store=not options["dry_run"],
            )
        except ImportError as error:
            raise CommandError(
                f"The {options['engine']} engine is not installed here: {error}"
            ) from error
        ids = {cand.a for cand in result.candidates} | {cand.b for cand in result.candidates}
        described = _describe(result.records, ids)
        pairs = [
            {
                "a": described[cand.a],
                "b": described[cand.b],
                "probability": round(cand.probability, 6),
                "agreements": cand.agreements,
            }
            for cand in result.candidates
        ]
        if options["format"] == "json":
            self.stdout.write(json.dumps(pairs, indent=2, ensure_ascii=False))
            return
        run = result.run
        self.stdout.write(
            f"Linked {run.incidents} incidents with {run.engine} in {run.seconds:.1f} s: "
            f"{run.pairs} pairs at or above {run.threshold:g}"
            + ("" if options["dry_run"] else f", {run.proposed} newly proposed for review")
            + (f", {run.skipped_rejected} rejected before" if run.skipped_rejected else "")
            + (f", {run.auto_merged} merged automatically" if run.auto_merged else "")
            + "."
        )
        for pair in pairs[:50]:
            reasons = ", ".join(str(AGREEMENT_LABELS.get(a, a)) for a in pair["agreements"])
            self.stdout.write(
                f"  {pair['probability']:.3f}  {_label(pair['a'])}  ~  {_label(pair['b'])}"
                f"  ({reasons or 'no field agreed'})"
            )
        if len(pairs) > 50:
            self.stdout.write(f"  … and {len(pairs) - 50} more (--format json lists them all)")


DESCRIBE_SLICE = 20_000


def _describe(records, ids) -> dict:
    """id → {"id", "reference", "source", "external_id"} for the incidents in the pairs."""
    # In slices: a million incidents' pairs name more ids than one SQL statement may bind.
    ordered, references = sorted(ids), {}
    for start in range(0, len(ordered), DESCRIBE_SLICE):
        chunk = ordered[start : start + DESCRIBE_SLICE]
        references.update(Incident.objects.filter(pk__in=chunk).values_list("pk", "reference"))
    chosen = pc.is_in(records["id"], value_set=pa.array(sorted(ids), pa.int64()))
    wanted = records.filter(chosen).select(["id", "origin", "external_id"])
    return {
        row["id"]: {
            "id": row["id"],
            "reference": references.get(row["id"], ""),
            "source": row["origin"],
            "external_id": row["external_id"],
        }
        for row in wanted.to_pylist()
    }


def _label(item: dict) -> str:
    source = f"{item['source']}:{item['external_id']}" if item["external_id"] else item["source"]
    return f"{item['reference']} ({source})"
