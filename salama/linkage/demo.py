"""Demo data for linkage: one linkage run over the demo incidents, so the review queue has
pairs to look at (AWSD × SiND once both are imported, and the demo's own reports)."""

from salama.linkage.models import CandidatePair, LinkageRun


def load_demo(organisations: dict, users: dict) -> dict:
    """Run linkage once (as the demo analyst); later calls change nothing."""
    if not LinkageRun.objects.filter(status=LinkageRun.Status.DONE).exists():
        from salama.linkage.services import run_linkage

        run_linkage(user=users.get("analyst"))
    return {
        "linkage runs": LinkageRun.objects.count(),
        "pairs to review": CandidatePair.objects.filter(
            status=CandidatePair.Status.PROPOSED
        ).count(),
    }
