"""Country names follow the reader's language (pycountry's ISO 3166-1 catalogs)."""

import pytest
from django.utils import translation

from salama.core.geo import country_choices, country_name


@pytest.mark.parametrize(
    ("language", "afghanistan", "kosovo"),
    [
        ("en", "Afghanistan", "Kosovo"),
        ("fr", "Afghanistan", "Kosovo"),
        ("es", "Afganistán", "Kosovo"),
        ("ru", "Афганистан", "Косово"),
        ("zh-hans", "阿富汗", "科索沃"),
        ("ar", "أفغانستان", "كوسوفو"),
    ],
)
def test_country_names_are_in_the_active_language(language, afghanistan, kosovo):
    with translation.override(language):
        assert country_name("AF") == afghanistan
        assert country_name("XK") == kosovo
        assert ("AF", afghanistan) in country_choices()


def test_choices_are_sorted_by_the_translated_name():
    names = [name for _, name in country_choices("es")]
    assert names == sorted(names, key=str.casefold)
    assert names.index("Afganistán") < names.index("Alemania")


def test_an_unknown_code_is_shown_as_is():
    assert country_name("QQ", "fr") == "QQ"
