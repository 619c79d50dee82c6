"""Signals the incidents app sends, for the apps built on it (which it may not import).

``incident_submitted`` is sent once the transaction that submitted an incident has committed,
with ``incident`` and ``user``: the registry proposes its cases from it.
"""

from django.dispatch import Signal

incident_submitted = Signal()
