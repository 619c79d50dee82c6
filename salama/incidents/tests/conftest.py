"""Helpers for the page tests: sign a persona in, and submit a page as a browser would."""

import pytest
from django import forms
from django.forms.widgets import ChoiceWidget
from django.test import Client
from django.urls import reverse


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_reporter(reporter):
    return signed_in(reporter)


@pytest.fixture
def as_endorser(endorser):
    return signed_in(endorser)


@pytest.fixture
def as_outsider(outsider):
    return signed_in(outsider)


def _field_value(bound):
    widget = bound.field.widget
    if isinstance(widget, forms.CheckboxInput):
        return "on" if bound.value() else None
    formatted = widget.format_value(bound.value())
    if isinstance(widget, ChoiceWidget):
        if widget.allow_multiple_selected:
            return list(formatted)
        return formatted[0] if formatted else ""
    return "" if formatted is None else formatted


def _form_data(form) -> dict:
    data = {}
    for bound in form:
        value = _field_value(bound)
        if value is not None:
            data[bound.html_name] = value
    return data


def page_data(response, add_rows=0, **changes) -> dict:
    """What a browser would post back from this step page, with ``changes`` applied.

    ``add_rows`` adds empty formset rows as the "Add a person" button does. ``changes`` use
    the posted names (``persons-0-impact``); a value of None removes it.
    """
    context = response.context
    data = {}
    if context.get("version") is not None:
        data["version"] = context["version"]
    for key in ("form", "crash"):
        if context.get(key) is not None:
            data.update(_form_data(context[key]))
    formset = context.get("formset")
    if formset is not None:
        data.update(_form_data(formset.management_form))
        for form in formset.forms:
            data.update(_form_data(form))
        total = formset.total_form_count()
        for index in range(total, total + add_rows):
            row = _form_data(formset.empty_form)
            data.update({k.replace("__prefix__", str(index)): v for k, v in row.items()})
        data[f"{formset.prefix}-TOTAL_FORMS"] = total + add_rows
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def step_url(incident_or_reference, step) -> str:
    reference = getattr(incident_or_reference, "reference", incident_or_reference)
    return reverse("incidents:step", args=[reference, step])


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is proved in core's tests; here users only need to exist (and sign in)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
