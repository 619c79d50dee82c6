"""What analysts and the linkage run do: find candidate pairs, confirm (merge), reject, unmerge.

Every change runs in one transaction with its audit entry. Permissions: an analyst (the
analyst role in any organisation) may review pairs of incidents they can both see through
``Incident.objects.visible_to``; nobody else may, and a pair with an incident hidden from the
user does not exist for them.
"""

import time
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salama.core import audit
from salama.incidents import choices as c
from salama.incidents import services as incident_services
from salama.incidents.models import AffectedPerson, Incident, Source
from salama.linkage import engine
from salama.linkage.frame import records_from_database
from salama.linkage.models import (
    CandidatePair,
    LinkageRun,
    LinkageSettings,
    MergeRecord,
    Rejection,
)
from salama.organisations.choices import Role
from salama.organisations.models import Membership

AGREEMENT_LABELS = {
    "date:same_day": gettext_lazy("same day"),
    "date:within_1_day": gettext_lazy("dates one day apart"),
    "date:within_3_days": gettext_lazy("dates at most three days apart"),
    "date:same_month": gettext_lazy("same month (one is dated to the month)"),
    "place:same_place": gettext_lazy("same place"),
    "place:in_narrative": gettext_lazy("the place of one is named in the other's narrative"),
    "place:same_admin1": gettext_lazy("same province / region"),
    "place:admin1_in_narrative": gettext_lazy(
        "the province of one is named in the other's narrative"
    ),
    "coordinates:within_5_km": gettext_lazy("points within 5 km"),
    "coordinates:within_25_km": gettext_lazy("points within 25 km"),
    "victims:same_counts": gettext_lazy("same numbers killed, injured and held"),
    "victims:within_one": gettext_lazy("victim numbers within one"),
    "means:same_means": gettext_lazy("same means of attack"),
    "means:same_subcategory": gettext_lazy("same sub-category"),
    "narrative:very_similar": gettext_lazy("narratives very similar"),
    "narrative:similar": gettext_lazy("narratives similar"),
}

# Fields whose values the merge page and the provenance compare, with their labels.
PROVENANCE_FIELDS = [
    "date",
    "date_precision",
    "country",
    "admin1",
    "admin2",
    "place",
    "latitude",
    "longitude",
    "location_type",
    "category",
    "subcategory",
    "means_of_attack",
    "attack_context",
    "perpetrator_type",
    "perpetrator_name",
    "motive",
    "premises_hit",
    "vehicles_hit",
    "supplies_hit",
    "health_facility_hit",
    "verification",
    "narrative",
]
VICTIM_FIELDS = [impact.value for impact in c.IMPACT_SEVERITY]


class LinkageError(Exception):
    """A review action that cannot be done in the pair's or incidents' present state."""


def is_analyst(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(user=user, role=Role.ANALYST).exists()


def _require_analyst(user):
    if not is_analyst(user):
        raise PermissionDenied(_("Only analysts review duplicate incidents."))


def pairs_visible_to(user):
    """The candidate pairs whose two incidents ``user`` may both see (none for non-analysts)."""
    if not is_analyst(user):
        return CandidatePair.objects.none()
    visible = Incident.objects.visible_to(user).values("pk")
    return CandidatePair.objects.filter(incident_a__in=visible, incident_b__in=visible)


def review_queue(user):
    """Proposed pairs of two current (not merged) incidents the user can see, best first."""
    return (
        pairs_visible_to(user)
        .filter(status=CandidatePair.Status.PROPOSED)
        .exclude(incident_a__status=c.Status.MERGED)
        .exclude(incident_b__status=c.Status.MERGED)
        .select_related("incident_a", "incident_b")
        .order_by("-probability", "id")
    )


# -- running the model ---------------------------------------------------------------------


@dataclass
class RunResult:
    run: LinkageRun
    candidates: list[engine.Candidate]
    records: object  # the Arrow table that was linked


def run_linkage(
    *,
    user=None,
    engine_name: str = "duckdb",
    threshold: float | None = None,
    run: LinkageRun | None = None,
    store: bool = True,
    spark=None,
) -> RunResult:
    """Link the current incidents, store the new candidate pairs, merge automatically if that
    is switched on. Pairs rejected before are not proposed again; pairs already decided keep
    their decision; proposed pairs the model no longer finds are withdrawn."""
    config = LinkageSettings.current()
    threshold = config.review_threshold if threshold is None else threshold
    if run is None:
        run = LinkageRun.objects.create(engine=engine_name, started_by=user, threshold=threshold)
    run.status, run.started_at, run.threshold = LinkageRun.Status.RUNNING, timezone.now(), threshold
    run.save(update_fields=["status", "started_at", "threshold"])
    began = time.perf_counter()
    try:
        records = records_from_database()
        candidates = engine.predict(records, engine=engine_name, threshold=threshold, spark=spark)
        run.incidents, run.pairs = records.num_rows, len(candidates)
        if store:
            _store(run, candidates, user)
            if config.auto_merge:
                run.auto_merged = _auto_merge(run, candidates, config.auto_merge_threshold)
        run.status = LinkageRun.Status.DONE
    except Exception as error:
        run.status, run.error = LinkageRun.Status.FAILED, f"{type(error).__name__}: {error}"[:2000]
        run.finished_at, run.seconds = timezone.now(), time.perf_counter() - began
        run.save()
        raise
    run.finished_at, run.seconds = timezone.now(), time.perf_counter() - began
    run.save()
    return RunResult(run, candidates, records)


def _store(run: LinkageRun, candidates, user):
    with transaction.atomic():
        # Two queries, whatever the number of pairs: every rejection and every pair's key.
        rejected = set(Rejection.objects.values_list("incident_a_id", "incident_b_id"))
        existing = {
            (a, b): (pk, status)
            for pk, a, b, status in CandidatePair.objects.values_list(
                "pk", "incident_a_id", "incident_b_id", "status"
            ).iterator(chunk_size=10_000)
        }
        new, changed = [], []
        for cand in candidates:
            key = (cand.a, cand.b)
            if key in rejected:
                run.skipped_rejected += 1
                continue
            found = existing.get(key)
            if found is None:
                new.append(
                    CandidatePair(
                        incident_a_id=cand.a,
                        incident_b_id=cand.b,
                        probability=cand.probability,
                        match_weight=cand.match_weight,
                        agreements=cand.agreements,
                        run=run,
                    )
                )
            elif found[1] == CandidatePair.Status.PROPOSED:
                changed.append(
                    CandidatePair(
                        pk=found[0],
                        probability=cand.probability,
                        match_weight=cand.match_weight,
                        agreements=cand.agreements,
                        run=run,
                    )
                )
        CandidatePair.objects.bulk_create(new, batch_size=1000)
        CandidatePair.objects.bulk_update(
            changed, ["probability", "match_weight", "agreements", "run"], batch_size=1000
        )
        withdrawn = (
            CandidatePair.objects.filter(status=CandidatePair.Status.PROPOSED)
            .exclude(run=run)
            .exclude(incident_a__status=c.Status.MERGED)
            .exclude(incident_b__status=c.Status.MERGED)
        )
        withdrawn_count = withdrawn.delete()[0]
        run.proposed = len(new)
        audit.record(
            "linkage:run",
            actor=user,
            obj=run,
            after={
                "engine": run.engine,
                "threshold": run.threshold,
                "incidents": run.incidents,
                "pairs": run.pairs,
                "proposed": run.proposed,
                "updated": len(changed),
                "withdrawn": withdrawn_count,
                "skipped_rejected": run.skipped_rejected,
            },
        )


def _auto_merge(run: LinkageRun, candidates, threshold: float) -> int:
    """Merge the pairs at or above ``threshold``, best first; an incident already merged in
    this run is left for review (it might be the wrong one)."""
    merged = 0
    touched: set[int] = set()
    for cand in candidates:
        if cand.probability < threshold:
            break
        if cand.a in touched or cand.b in touched:
            continue
        pair = CandidatePair.objects.filter(
            incident_a_id=cand.a, incident_b_id=cand.b, status=CandidatePair.Status.PROPOSED
        ).first()
        if pair is None:
            continue
        try:
            _merge_pair(pair, survivor_id=cand.a, user=None, automatic=True)
        except (LinkageError, incident_services.WorkflowError):
            continue
        touched.update((cand.a, cand.b))
        merged += 1
    return merged


# -- provenance ----------------------------------------------------------------------------


def _victims(incident_id: int) -> dict[str, int]:
    counts = dict.fromkeys(VICTIM_FIELDS, 0)
    for impact, count in AffectedPerson.objects.filter(incident_id=incident_id).values_list(
        "impact", "count"
    ):
        counts[impact] = counts.get(impact, 0) + count
    return counts


def _source_labels(incident_id: int) -> list[str]:
    return [str(source) for source in Source.objects.filter(incident_id=incident_id).order_by("id")]


def provenance(survivor: Incident, duplicate: Incident) -> list[dict]:
    """Field by field, what each incident (and so each source) said, and whether they agree."""
    sides = []
    for incident in (survivor, duplicate):
        snapshot = audit.snapshot(incident)
        sides.append(
            {
                "incident": incident.reference,
                "sources": _source_labels(incident.pk),
                "fields": snapshot,
                "victims": _victims(incident.pk),
            }
        )
    entries = []
    for name in PROVENANCE_FIELDS:
        values = [side["fields"].get(name) for side in sides]
        entries.append(
            {
                "field": name,
                "label": str(Incident._meta.get_field(name).verbose_name),
                "agree": values[0] == values[1],
                "values": [
                    {"incident": side["incident"], "sources": side["sources"], "value": value}
                    for side, value in zip(sides, values, strict=True)
                ],
            }
        )
    for impact in VICTIM_FIELDS:
        values = [side["victims"][impact] for side in sides]
        if not any(values):
            continue
        entries.append(
            {
                "field": f"victims:{impact}",
                "label": str(c.Impact(impact).label),
                "agree": values[0] == values[1],
                "values": [
                    {"incident": side["incident"], "sources": side["sources"], "value": value}
                    for side, value in zip(sides, values, strict=True)
                ],
            }
        )
    return entries


# -- review actions ------------------------------------------------------------------------


def _visible_pair(pair_id: int, user) -> CandidatePair:
    pair = pairs_visible_to(user).filter(pk=pair_id).first()
    if pair is None:
        raise PermissionDenied(_("You cannot review this pair."))
    return pair


def _already_decided(pair: CandidatePair) -> str:
    """Why a pair that is no longer proposed cannot be decided again: one whole sentence per
    status, so that every language can word it."""
    if pair.status == CandidatePair.Status.CONFIRMED:
        return _("This pair was already confirmed: the two incidents were merged.")
    if pair.status == CandidatePair.Status.REJECTED:
        return _("This pair was already rejected.")
    return _("This pair was already merged, and the merge was then undone.")


def _merge_pair(pair: CandidatePair, *, survivor_id: int, user, automatic: bool) -> MergeRecord:
    if survivor_id not in (pair.incident_a_id, pair.incident_b_id):
        raise LinkageError(_("The incident kept must be one of the pair."))
    duplicate_id = pair.incident_b_id if survivor_id == pair.incident_a_id else pair.incident_a_id
    with transaction.atomic():
        locked = CandidatePair.objects.select_for_update().get(pk=pair.pk)
        if locked.status != CandidatePair.Status.PROPOSED:
            raise LinkageError(_already_decided(locked))
        incidents = Incident.objects.select_for_update().in_bulk([survivor_id, duplicate_id])
        survivor, duplicate = incidents[survivor_id], incidents[duplicate_id]
        for incident in (survivor, duplicate):
            if incident.status == c.Status.MERGED:
                raise LinkageError(
                    _("%(ref)s is already merged into another incident.")
                    % {"ref": incident.reference}
                )
        record = MergeRecord(
            survivor=survivor,
            duplicate=duplicate,
            pair=locked,
            automatic=automatic,
            probability=locked.probability,
            provenance=provenance(survivor, duplicate),
            moved_sources=list(duplicate.sources.order_by("id").values_list("pk", flat=True)),
            survivor_before=incident_services.full_snapshot(survivor),
            duplicate_before=incident_services.full_snapshot(duplicate),
            merged_by=user if getattr(user, "pk", None) else None,
        )
        # The pair's rule was applied above (an analyst who sees both, or automatic).
        incident_services.merge(duplicate, survivor, user, check_permission=False)
        record.save()
        locked.status = CandidatePair.Status.CONFIRMED
        locked.decided_by = record.merged_by
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        audit.record(
            "linkage:merge",
            actor=user,
            obj=survivor,
            after={
                "merge_record": record.pk,
                "pair": locked.pk,
                "survivor": survivor.reference,
                "duplicate": duplicate.reference,
                "probability": locked.probability,
                "automatic": automatic,
                "disagreements": [entry["field"] for entry in record.disagreements()],
            },
        )
    return record


def confirm(pair_id: int, user, *, survivor_id: int | None = None) -> MergeRecord:
    """The analyst says the pair is one event: merge it, keeping ``survivor_id`` (default: the
    incident with the lower id, usually the one recorded first)."""
    _require_analyst(user)
    pair = _visible_pair(pair_id, user)
    return _merge_pair(
        pair, survivor_id=survivor_id or pair.incident_a_id, user=user, automatic=False
    )


def reject(pair_id: int, user, *, reason: str = "") -> Rejection:
    """The analyst says the two are different events: remembered, never proposed again."""
    _require_analyst(user)
    pair = _visible_pair(pair_id, user)
    with transaction.atomic():
        locked = CandidatePair.objects.select_for_update().get(pk=pair.pk)
        if locked.status != CandidatePair.Status.PROPOSED:
            raise LinkageError(_already_decided(locked))
        rejection, _created = Rejection.objects.get_or_create(
            incident_a_id=locked.incident_a_id,
            incident_b_id=locked.incident_b_id,
            defaults={"rejected_by": user, "reason": reason[:500]},
        )
        locked.status = CandidatePair.Status.REJECTED
        locked.decided_by, locked.decided_at, locked.note = user, timezone.now(), reason[:500]
        locked.save(update_fields=["status", "decided_by", "decided_at", "note", "updated_at"])
        audit.record(
            "linkage:reject",
            actor=user,
            obj=locked,
            after={
                "incident_a": locked.incident_a.reference,
                "incident_b": locked.incident_b.reference,
                "probability": locked.probability,
                "reason": reason[:500],
            },
        )
    return rejection


def merges_visible_to(user):
    if not is_analyst(user):
        return MergeRecord.objects.none()
    visible = Incident.objects.visible_to(user).values("pk")
    return MergeRecord.objects.filter(survivor__in=visible, duplicate__in=visible)


def unmerge(merge_id: int, user) -> MergeRecord:
    """Undo a merge: the duplicate gets back its fields, status and sources as they were just
    before the merge; the survivor loses the sources it received and nothing else."""
    _require_analyst(user)
    record = merges_visible_to(user).filter(pk=merge_id).first()
    if record is None:
        raise PermissionDenied(_("You cannot undo this merge."))
    with transaction.atomic():
        record = MergeRecord.objects.select_for_update().get(pk=record.pk)
        if not record.is_live:
            raise LinkageError(_("This merge was already undone."))
        duplicate = Incident.objects.select_for_update().get(pk=record.duplicate_id)
        survivor = Incident.objects.select_for_update().get(pk=record.survivor_id)
        if duplicate.status != c.Status.MERGED or duplicate.merged_into_id != survivor.pk:
            raise LinkageError(
                _("%(ref)s is no longer merged into %(survivor)s.")
                % {"ref": duplicate.reference, "survivor": survivor.reference}
            )
        if survivor.status == c.Status.MERGED:
            raise LinkageError(
                _("%(ref)s was merged into another incident since: undo that merge first.")
                % {"ref": survivor.reference}
            )
        before_duplicate = incident_services.full_snapshot(duplicate)
        before_survivor = incident_services.full_snapshot(survivor)
        moved = Source.objects.filter(pk__in=record.moved_sources, incident=survivor)
        moved.update(incident=duplicate)
        restore = {
            name: value
            for name, value in record.duplicate_before.items()
            if name in {f.attname for f in Incident._meta.concrete_fields}
            and name not in ("id", "version", "reference")
        }
        restore["version"] = duplicate.version + 1
        Incident.objects.filter(pk=duplicate.pk).update(**_from_snapshot(restore))
        duplicate.refresh_from_db()
        record.unmerged_by, record.unmerged_at = user, timezone.now()
        record.save(update_fields=["unmerged_by", "unmerged_at"])
        if record.pair_id:
            CandidatePair.objects.filter(pk=record.pair_id).update(
                status=CandidatePair.Status.UNMERGED, decided_by=user, decided_at=timezone.now()
            )
        audit.record(
            "unmerge",
            actor=user,
            obj=duplicate,
            before=before_duplicate,
            after=incident_services.full_snapshot(duplicate),
        )
        audit.record(
            "linkage:unmerge",
            actor=user,
            obj=survivor,
            before=before_survivor,
            after=incident_services.full_snapshot(survivor),
        )
    return record


def _from_snapshot(values: dict) -> dict:
    """Snapshot values (JSON) back into model values."""
    import datetime

    converted = {}
    for name, value in values.items():
        field = next(f for f in Incident._meta.concrete_fields if f.attname == name)
        if value is not None and field.get_internal_type() == "DateField":
            value = datetime.date.fromisoformat(value)
        elif value is not None and field.get_internal_type() == "DateTimeField":
            value = datetime.datetime.fromisoformat(value)
        elif value is not None and field.get_internal_type() == "TimeField":
            value = datetime.time.fromisoformat(value)
        converted[name] = value
    return converted
