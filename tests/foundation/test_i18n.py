import tomllib
from pathlib import Path

import pytest
from babel import Locale

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


def _fields(where: str, value) -> set[str]:
    found = set()
    for template in _templates(value):
        assert isinstance(template, str), f"{where}: a message must be text, not {type(template).__name__}"
        try:
            found |= placeholders(template)
        except ValueError as exc:
            raise AssertionError(f"{where}: the message is not a valid template ({exc}): {template!r}")
    return found


def _needed(lang: str) -> set[str]:
    """The plural categories the language's CLDR rules can choose (en: one, other; cy: all six)."""
    return set(Locale.parse(lang).plural_form.tags) | {"other"}


AREAS = sorted({p.stem for lang in ("en", "cy") for p in (LOCALES / lang).glob("*.toml")})


def test_both_languages_have_the_same_catalogue_files():
    en = {p.name for p in (LOCALES / "en").glob("*.toml")}
    cy = {p.name for p in (LOCALES / "cy").glob("*.toml")}
    assert not en - cy, f"cyswllt/locales/cy/ lacks {sorted(en - cy)}"
    assert not cy - en, f"cyswllt/locales/en/ lacks {sorted(cy - en)}"


@pytest.mark.parametrize("area", AREAS)
def test_catalogues_match_between_english_and_welsh(area):
    entries = {}
    for lang in ("en", "cy"):
        path = LOCALES / lang / f"{area}.toml"
        if not path.exists():
            pytest.fail(f"cyswllt/locales/{lang}/{area}.toml is missing")
        try:
            entries[lang] = dict(_flatten(tomllib.loads(path.read_text(encoding="utf-8"))))
        except tomllib.TOMLDecodeError as exc:
            pytest.fail(f"cyswllt/locales/{lang}/{area}.toml is not valid TOML: {exc}")
    en, cy = entries["en"], entries["cy"]
    problems = [f"cyswllt/locales/cy/{area}.toml lacks {area}.{key}" for key in sorted(set(en) - set(cy))]
    problems += [f"cyswllt/locales/en/{area}.toml lacks {area}.{key}" for key in sorted(set(cy) - set(en))]
    for key in sorted(set(en) & set(cy)):
        en_fields = _fields(f"cyswllt/locales/en/{area}.toml {area}.{key}", en[key])
        cy_fields = _fields(f"cyswllt/locales/cy/{area}.toml {area}.{key}", cy[key])
        if en_fields != cy_fields:
            problems.append(f"{area}.{key}: placeholders differ (en/{area}.toml {sorted(en_fields)}, "
                            f"cy/{area}.toml {sorted(cy_fields)})")
        for lang, value in (("en", en[key]), ("cy", cy[key])):
            if isinstance(value, dict):
                missing = _needed(lang) - set(value)
                if missing:
                    problems.append(f"cyswllt/locales/{lang}/{area}.toml {area}.{key} lacks plural "
                                    f"form(s) {sorted(missing)}")
            elif isinstance(en[key] if lang == "cy" else cy[key], dict):
                problems.append(f"cyswllt/locales/{lang}/{area}.toml {area}.{key} is a plain message "
                                "where the other language has plural forms")
    assert not problems, "\n".join(problems)


def test_welsh_catalogues_are_not_empty():
    welsh_files = list((LOCALES / "cy").glob("*.toml"))
    assert welsh_files and all(f.read_text(encoding="utf-8").strip() for f in welsh_files)


def test_welsh_board_names_take_the_soft_mutation_after_ar_and_gan():
    from cyswllt.i18n import soft_mutation

    assert t("cy", "handlers.actions_heading_all", board="Bwrdd Gwasanaethau Cyhoeddus Gwynedd") == \
        "Pob cam ar Fwrdd Gwasanaethau Cyhoeddus Gwynedd"
    assert t("cy", "handlers.actions_none_all", board="Partneriaeth Conwy").startswith("Does gan Bartneriaeth Conwy ddim")
    # The English sentence, a proper name and an English name are left as written.
    assert t("en", "handlers.actions_heading_all", board="Bwrdd Gwasanaethau Cyhoeddus Gwynedd").endswith(
        "on Bwrdd Gwasanaethau Cyhoeddus Gwynedd")
    assert t("cy", "handlers.actions_heading_all", board="Cardiff Public Services Board") == \
        "Pob cam ar Cardiff Public Services Board"
    assert [soft_mutation(n) for n in ("Cyngor Sir Ddinbych", "pwyllgor craffu", "Tîm Cyswllt", "Caerdydd")] == [
        "Gyngor Sir Ddinbych", "bwyllgor craffu", "Dîm Cyswllt", "Caerdydd"]
