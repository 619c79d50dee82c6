"""The analytics demo: synthetic UN-personnel data (labelled synthetic) and a fresh snapshot."""

from salama.analytics import snapshot, synthetic_un


def load_demo(organisations: dict, users: dict) -> dict:
    """Idempotent: the synthetic records are made once; the snapshot is brought up to date
    (call this after the AWSD import, so the snapshot holds it too)."""
    counts = synthetic_un.load_demo(organisations, users)
    result = snapshot.refresh()
    counts["snapshot"] = result.kind
    return counts
