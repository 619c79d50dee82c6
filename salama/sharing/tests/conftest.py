"""What the sharing tests share: an organisation admin on each side, and an agreement made
the way people make it (proposed by the provider's admin, accepted by the recipient's)."""

import pytest

from salama.conftest import make_user
from salama.organisations.choices import Role
from salama.sharing import agreements


@pytest.fixture
def undp_admin(undp):
    return make_user("ada", undp, roles=(Role.ORG_ADMIN,))


@pytest.fixture
def nrc_admin(nrc):
    return make_user("nils", nrc, roles=(Role.ORG_ADMIN,))


def agreed(provider, recipient, by_provider, by_recipient, *, level, **terms):
    """An agreement proposed by ``by_provider`` and, unless ``by_recipient`` is None,
    accepted by ``by_recipient``."""
    terms.setdefault("purpose", "SLT security cell, South Sudan")
    made = agreements.propose(provider, recipient, by=by_provider, level=level, **terms)
    return made if by_recipient is None else agreements.accept(made, by=by_recipient)
