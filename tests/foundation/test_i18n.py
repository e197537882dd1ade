import tomllib
from pathlib import Path

import pytest

from cyswllt.i18n import PLURAL_CATEGORIES, placeholders, plural_category, t

LOCALES = Path(__file__).resolve().parents[2] / "cyswllt" / "locales"


@pytest.mark.parametrize("count, category", [(0, "zero"), (1, "one"), (2, "two"), (3, "few"), (6, "many"), (7, "other")])
def test_welsh_has_six_plural_categories(count, category):
    assert plural_category("cy", count) == category


def test_welsh_plurals_are_used_in_messages():
    assert [t("cy", "common.actions", count=n) for n in (0, 1, 2, 3, 6, 7)] == [
        "dim camau", "1 cam", "2 gam", "3 cham", "6 cham", "7 cam"]
    assert [t("en", "common.actions", count=n) for n in (0, 1, 2)] == ["no actions", "1 action", "2 actions"]


def _flatten(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict) and not (set(value) <= set(PLURAL_CATEGORIES)):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _templates(value):
    return list(value.values()) if isinstance(value, dict) else [value]


@pytest.mark.parametrize("area", sorted(p.stem for p in (LOCALES / "en").glob("*.toml")))
def test_catalogues_match_between_english_and_welsh(area):
    en = dict(_flatten(tomllib.loads((LOCALES / "en" / f"{area}.toml").read_text(encoding="utf-8"))))
    cy_path = LOCALES / "cy" / f"{area}.toml"
    assert cy_path.exists(), f"cy/{area}.toml is missing"
    cy = dict(_flatten(tomllib.loads(cy_path.read_text(encoding="utf-8"))))
    assert not set(en) - set(cy), f"cy/{area}.toml lacks {sorted(set(en) - set(cy))}"
    assert not set(cy) - set(en), f"en/{area}.toml lacks {sorted(set(cy) - set(en))}"
    for key in en:
        en_fields = set().union(*(placeholders(v) for v in _templates(en[key])))
        cy_fields = set().union(*(placeholders(v) for v in _templates(cy[key])))
        assert en_fields == cy_fields, f"{area}.{key}: placeholders differ ({en_fields} vs {cy_fields})"
        if isinstance(cy[key], dict):
            missing = {"zero", "one", "two", "few", "many", "other"} - set(cy[key])
            assert not missing, f"cy/{area}.toml {key} lacks plural forms {missing}"
        if isinstance(en[key], dict):
            assert {"one", "other"} <= set(en[key]), f"en/{area}.toml {key} needs one and other"


def test_welsh_catalogues_are_not_empty():
    welsh_files = list((LOCALES / "cy").glob("*.toml"))
    assert welsh_files and all(f.read_text(encoding="utf-8").strip() for f in welsh_files)
