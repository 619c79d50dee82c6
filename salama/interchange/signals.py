"""Signals other apps listen to, so that interchange needs to know nothing of them."""

from django.dispatch import Signal

# Sent when an import batch has finished and committed: ``batch`` (an ImportBatch). Bulk
# inserts send no post_save, so apps that keep derived data (the analytics snapshot) use this.
import_finished = Signal()
