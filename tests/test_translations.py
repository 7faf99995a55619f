"""The page's labels: every one the template and the scripts ask for exists in Dutch, French and English."""

import json
import re

from stack.settings import ROOT

STATIC = ROOT / "web" / "static"
TRANSLATIONS = json.loads((STATIC / "translations.json").read_text())


def wanted() -> set[str]:
    """The label keys the template names (data-i18n...) and the scripts pass to t() (literally or by prefix)."""
    template = (ROOT / "web" / "templates" / "index.html").read_text()
    keys = set(re.findall(r'data-i18n(?:-label|-title)?="([\w.]+)"', template))
    for script in (STATIC / "js").glob("*.js"):
        text = script.read_text()
        keys |= set(re.findall(r'\bt\(\s*"([\w.]+)"', text))
        keys |= set(re.findall(r'label: "([\w.]+)"', text))
    return keys


def test_every_label_is_translated_in_the_three_languages():
    assert set(TRANSLATIONS) == {"en", "nl", "fr"}
    keys = wanted()
    assert len(keys) > 60
    for language, labels in TRANSLATIONS.items():
        assert keys <= set(labels), (language, sorted(keys - set(labels)))
        assert set(labels) == set(TRANSLATIONS["en"]), language


def test_labels_built_from_data_exist_for_every_value_the_database_gives():
    # compare.<level>, source.<source>, collector.<source>, aggregation.<level>: the values the API can return
    for prefix, values in (("compare", ("hour", "day", "week", "month", "year")),
                           ("level", ("hour", "day", "week", "month", "year")),
                           ("collector", ("dsmr", "sun2000", "fusionsolar")),
                           ("source", ("dsmr", "sun2000", "fusionsolar", "fluvius")),
                           ("aggregation", ("hour", "day", "week", "month"))):
        for value in values:
            for labels in TRANSLATIONS.values():
                assert f"{prefix}.{value}" in labels


def test_placeholders_are_the_same_in_every_language():
    for key, english in TRANSLATIONS["en"].items():
        names = set(re.findall(r"\{(\w+)\}", english))
        for language in ("nl", "fr"):
            assert set(re.findall(r"\{(\w+)\}", TRANSLATIONS[language][key])) == names, (language, key)
