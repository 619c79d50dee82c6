"""What the registry adds to a backup (``salama.core.backup``): the folder of encrypted
documents, and the ids of the keys its identities and documents are encrypted with, so that a
restore can say which key is missing before anyone finds the identities unreadable."""

from pathlib import Path

from salama.registry import crypto, documents
from salama.registry.models import Identity


def stored_key_ids() -> set[str]:
    ids = set(Identity.objects.values_list("key_id", flat=True).distinct())
    folder = documents.storage_dir()
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and not path.name.startswith("."):
                with path.open("rb") as handle:
                    first = handle.readline(200)
                if first.startswith(documents.MAGIC):
                    ids.add(first[len(documents.MAGIC) :].strip().decode(errors="replace"))
    return ids


def backup_facts(sender, **kwargs) -> dict:
    folder: Path = documents.storage_dir()
    return {"folders": [folder] if folder.is_dir() else [], "key_ids": sorted(stored_key_ids())}


def restore_warnings(sender, manifest=None, **kwargs) -> list[str]:
    needed = set((manifest or {}).get("key_ids", []))
    configured = {key.id for key in crypto.keyring()}
    # Said to the operator on the command line, in English like every command's output.
    return [
        f"Identities or documents in this backup are encrypted with key {key_id}, which is "
        "not configured (SALAMA_ENCRYPTION_KEY): they cannot be read until it is."
        for key_id in sorted(needed - configured)
    ]
