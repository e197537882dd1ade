import pytest

from engagement.analysis import analyse
from engagement.analysis.welsh import demutate, fold, hits, lexicon, mutations


def test_mutations_are_generated_by_rule():
    assert {"da", "dda"} <= mutations("da")
    assert {"gwael", "wael", "ngwael"} <= mutations("gwael")
    assert {"cyfle", "gyfle", "nghyfle", "chyfle"} <= mutations("cyfle")
    assert {"trist", "drist", "nhrist", "thrist"} <= mutations("trist")
    assert {"peryglus", "beryglus", "mheryglus", "pheryglus"} <= mutations("peryglus")
    assert {"balch", "falch", "malch"} <= mutations("balch")
    assert {"llwyddiannus", "lwyddiannus"} <= mutations("llwyddiannus")
    assert {"rhad", "rad"} <= mutations("rhad")
    assert "fodlon" in mutations("bodlon") and "hapus" in mutations("hapus")
    assert "hiach" in mutations("iach")  # h- before a vowel after "ei" (her), "ein", "eu"


def test_demutation_finds_the_radical():
    assert "gwael" in demutate("wael")
    assert "cyfle" in demutate("nghyfle") and "cyfle" in demutate("chyfle")
    assert "llyfrgell" in demutate("lyfrgell")


def test_lexicon_has_at_least_300_lemmas_and_their_mutated_forms():
    entries = lexicon()
    lemmas = {lemma for lemma, _ in entries.values()}
    assert len(lemmas) >= 300
    assert entries["dda"] == ("da", entries["da"][1]) and entries["dda"][1] > 0
    assert entries["wael"][1] < 0 and entries["ngwael"][1] < 0
    assert entries["gyfle"][0] == "cyfle"
    # A mutated form that is a common word is not a sentiment word: "na" (than/not) is not "da".
    assert "na" not in entries


@pytest.mark.parametrize("text, expected", [
    ("Mae'r gwasanaeth yn dda", "positive"),
    ("Nid yw'r gwasanaeth yn dda", "negative"),
    ("Dydy'r gwasanaeth ddim yn dda", "negative"),
    ("Mae'r gwasanaeth yn wael", "negative"),
    ("Dydy'r gwasanaeth ddim yn wael", "positive"),
    ("Mae'r staff yn gymwynasgar iawn", "positive"),
    ("Mae'r bws yn hwyr bob dydd", "negative"),
    ("Mae'r tocynnau yn rhy ddrud", "negative"),
    ("Mae'r daith yn rhy hir", "negative"),  # "rhy" makes a plain quality a complaint
    ("Roedd y ganolfan heb ei glanhau ac yn frwnt", "negative"),
    ("Diolch yn fawr am y cyfle", "positive"),
    ("Mae'r cynllun yn deg", "positive"),
    ("Rydyn ni'n hapus iawn gyda'r ysgol", "positive"),  # "ni" (we) is not a negator
    ("Mae'r parc yn well na'r llynedd", "positive"),  # "na" (than) is not a negator
    ("Bydd y bws yn dod mewn deg munud", "neutral"),  # "deg" (ten) is not "teg" (fair)
    ("Mae'r llyfrgell ar agor ar ddydd Sadwrn", "neutral"),
])
def test_welsh_sentiment(text, expected):
    assert analyse(text, "cy").sentiment == expected


def test_intensifiers_strengthen_and_negation_flips():
    plain = analyse("Mae'n dda", "cy").polarity
    assert analyse("Mae'n dda iawn", "cy").polarity > plain > 0
    assert analyse("Mae'n hynod o dda", "cy").polarity > 0
    assert analyse("Dydy e ddim yn dda", "cy").polarity < 0


def test_welsh_responses_are_not_neutral_by_default():
    positive = ["Mae'r gwasanaeth bws newydd yn wych.", "Roedd y nyrs yn garedig ac yn broffesiynol.",
                "Mae'r ganolfan hamdden yn lân ac yn groesawgar."]
    negative = ["Mae'r ffyrdd yn llawn tyllau ac yn beryglus.", "Rwy'n siomedig iawn gyda'r penderfyniad.",
                "Mae'r toriadau i'r gwasanaethau ieuenctid yn annheg."]
    assert [analyse(t).sentiment for t in positive] == ["positive"] * 3
    assert [analyse(t).sentiment for t in negative] == ["negative"] * 3


def test_diacritics_fold_for_lookup_but_text_is_kept():
    assert fold("Glân") == "glan" and fold("ŵyr") == "wyr"
    assert analyse("Mae'r parc yn lân", "cy").sentiment == "positive"
    assert analyse("Mae'r parc yn lan", "cy").sentiment == "positive"  # typed without the circumflex
    assert [h.word for h in hits("Mae'r tŷ yn ofnadwy")] == ["ofnadwy"]
    assert analyse("Mae'r ganolfan hamdden yn lân", "cy").theme_keys == ["leisure"]


@pytest.mark.parametrize("text, expected", [
    ("Rydw i wrth fy modd gyda'r llyfrgell newydd", "positive"),
    ("Roedden ni wrth ein boddau yn y parc", "positive"),
    ("Yn anffodus, mae'r bws wedi'i ganslo eto", "negative"),
    ("Trueni bod y ganolfan wedi cau", "negative"),
    ("Byddai'n lleoliad delfrydol i'r ysgol", "positive"),
    ("Byddwn i'n argymell y gwasanaeth i unrhyw un", "positive"),
    ("Fyddwn i ddim yn argymell y lle yma", "negative"),
    ("Mae'r staff yn rhyfeddol", "positive"),
    ("Mae'n amhosib cael apwyntiad", "negative"),
    ("Ta waeth, mae'r gwasanaeth yn dda", "positive"),  # "ta waeth" (never mind) is not "gwaeth" (worse)
    ("Ta waeth am hynny", "neutral"),
    ("Er gwaethaf y tywydd, roedd y ffair yn wych", "positive"),
    ("Rydw i wedi cael llond bol ar y tyllau", "negative"),
    ("Mae'r bwyd yn flasus dros ben", "positive"),
    ("Ces i mo'm siomi", "positive"),
    ("Mae'n gweithio i'r dim", "positive"),
    ("Mae'r sŵn yn mynd ar fy nerfau", "negative"),
    ("Ddim at fy nant i", "negative"),
    ("Chwarae teg i'r gyrwyr", "positive"),
    ("Mae'n ofnadwy o dda", "positive"),
    ("Roedd y cig yn ddi-flas", "negative"),
])
def test_evaluative_words_expressions_and_idioms(text, expected):
    assert analyse(text, "cy").sentiment == expected
