"""The demo's sharing agreements: the tour's *Shared with us* page has something to show."""

import pytest
from django.contrib.auth import get_user_model

from salama.demo import load
from salama.sharing import agreements
from salama.sharing.models import Agreement

pytestmark = pytest.mark.django_db


def test_the_demo_ngo_receives_the_agencys_amber_incidents_redacted_once():
    load(awsd_files=())
    load(awsd_files=())  # idempotent
    assert Agreement.objects.count() == 2
    ngo_analyst = get_user_model().objects.get(username="ngo_analyst")
    (received,) = agreements.received(ngo_analyst)
    assert received.level == Agreement.Level.REDACTED
    assert agreements.records(received).exists()
    proposed = Agreement.objects.get(recipient__acronym="DEMO-NNGO")
    assert proposed.state() == Agreement.State.PROPOSED
