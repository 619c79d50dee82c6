"""Sensitivity markings (FIRST Traffic Light Protocol 2.0) and what each one allows.

The order runs from most open to most restricted. Every rule about who may see a marked
record lives here; querysets compose these rules with memberships, never views.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TLP(models.TextChoices):
    CLEAR = "CLEAR", _("TLP:CLEAR — no restriction")
    GREEN = "GREEN", _("TLP:GREEN — the community, not public channels")
    AMBER = "AMBER", _("TLP:AMBER — the recipient's organisation and its clients")
    AMBER_STRICT = "AMBER+STRICT", _("TLP:AMBER+STRICT — the recipient's organisation only")
    RED = "RED", _("TLP:RED — named recipients only")


ORDER = [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED]

# Markings any signed-in user of the instance may see.
INSTANCE_WIDE = (TLP.CLEAR, TLP.GREEN)
# Markings visible to members of the owning organisation.
ORGANISATION_ONLY = (TLP.AMBER, TLP.AMBER_STRICT)
# Of those, the markings the owner may also share with other organisations on a need-to-know
# basis (a sharing agreement): TLP:AMBER+STRICT stays in its organisation, TLP:RED with its
# named recipients, whatever any agreement says.
SHAREABLE = (TLP.AMBER,)
# Markings visible only to the reporter and the people named on the record.
NAMED_ONLY = (TLP.RED,)


def rank(marking: str) -> int:
    """0 for CLEAR … 4 for RED; raises ValueError for an unknown marking."""
    return ORDER.index(TLP(marking))


def stricter(a: str, b: str) -> str:
    return a if rank(a) >= rank(b) else b
