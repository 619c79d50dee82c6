"""The AWSD crosswalk is data, keyed to the stable codes, and matched forgivingly."""

import pytest

from salama.core.geo import is_country_code
from salama.incidents import choices as c
from salama.interchange.formats import Vocabulary, awsd, country_from_name, load_data, norm

CROSSWALK = load_data("awsd/crosswalk.json")
TAXONOMIES = {
    "means_of_attack": c.MeansOfAttack,
    "attack_context": c.AttackContext,
    "location_type": c.LocationType,
    "motive": c.Motive,
    "perpetrator_type": c.PerpetratorType,
    "verification": c.Verification,
    "source_kind": c.SourceKind,
}


@pytest.mark.parametrize("table", sorted(TAXONOMIES))
def test_every_value_maps_to_a_stable_code_of_its_taxonomy(table):
    codes = {v for k, v in CROSSWALK[table].items() if not k.startswith("_")}
    assert codes <= set(TAXONOMIES[table].values)


def test_every_country_in_the_crosswalk_is_an_iso_code():
    codes = {v for k, v in CROSSWALK["countries"].items() if not k.startswith("_")}
    assert all(is_country_code(code) for code in codes)


def test_a_code_outside_the_taxonomy_is_refused_when_the_data_loads():
    with pytest.raises(ValueError, match="not in the taxonomy"):
        Vocabulary({"Shooting": "gunfire"}, c.MeansOfAttack.values)


@pytest.mark.parametrize(
    "vocabulary, value, code",
    [
        (awsd.MEANS, "Rape/sexual assault ", c.MeansOfAttack.RAPE_SEXUAL_ASSAULT),
        (awsd.MEANS, "Landmine ", c.MeansOfAttack.LANDMINE),
        (awsd.MEANS, "VBIED-S ", c.MeansOfAttack.VEHICLE_BORNE_IED),
        (awsd.PERPETRATORS, "Host State", c.PerpetratorType.STATE_HOST),
        (awsd.PERPETRATORS, "Host state", c.PerpetratorType.STATE_HOST),
        (awsd.PERPETRATORS, "Non-state armed group: Global ", c.PerpetratorType.NSAG_GLOBAL),
        (awsd.VERIFICATION, "Pen", c.Verification.PENDING),
        (awsd.VERIFICATION, "Yes", c.Verification.VERIFIED),
        (awsd.VERIFICATION, "Archived", c.Verification.ARCHIVED),
        (awsd.SOURCE_KINDS, "Official Report ", c.SourceKind.OFFICIAL_REPORT),
        (awsd.SOURCE_KINDS, "Focal point", c.SourceKind.FOCAL_POINT),
        (awsd.SOURCE_KINDS, "media", c.SourceKind.MEDIA),
        (awsd.SOURCE_KINDS, "ACLED ", c.SourceKind.ACLED),
        (awsd.CONTEXTS, "Am", c.AttackContext.AMBUSH),
        (awsd.LOCATIONS, "C", c.LocationType.CUSTODY),
    ],
)
def test_variant_spellings_map_to_the_same_code(vocabulary, value, code):
    assert vocabulary.get(value) == code


def test_names_are_normalised_for_matching():
    assert norm("  Official   Report ") == "official report"


@pytest.mark.parametrize(
    "name, code",
    [
        ("Chechnya", "RU"),
        ("DR Congo", "CD"),
        ("Occupied Palestinian Territories", "PS"),
        ("Libyan Arab Jamahiriya", "LY"),
        ("Syrian Arab Republic", "SY"),
        ("Tanzania", "TZ"),
        ("Kosovo", "XK"),
        ("Kashmir", None),
        ("", None),
    ],
)
def test_country_names_resolve_through_the_crosswalk_then_pycountry(name, code):
    assert country_from_name(name, awsd.COUNTRIES) == code
