"""The Welsh and English wording fixes: mutation after "neu" and "â", no "a" before a digit, GOV.UK's
"Mae problem wedi codi", "Anhysbys", "wedi'i gwblhau" (with "cwblhawyd" still a command word),
"Atgoffa fi'r wythnos nesaf", and "1 negative response"."""

from cyswllt.i18n import t


async def test_the_refusal_softens_after_neu(board, say):
    reply = await say(board["outsider"], "diweddaru A-1 gwyrdd iawn")
    assert "neu gadeirydd neu ysgrifenyddiaeth y bwrdd" in reply.text and "neu cadeirydd" not in reply.text
    unowned = await say(board["outsider"], "diweddaru A-2 gwyrdd iawn")  # no owner, no leads
    assert unowned.text == "Dim ond cadeirydd neu ysgrifenyddiaeth y bwrdd sy'n gallu diweddaru A-2."


async def test_ag_before_a_vowel(board, say):
    linked = await say("UCHAIR", "bwrdd cysylltu Bwrdd Ynys Môn", platform="slack", channel="CNEW")
    assert "wedi'i chysylltu â Bwrdd Ynys Môn" in linked.text
    assert t("cy", "handlers.board_linked", board="Ynys Môn").startswith("Mae'r sianel hon bellach wedi'i chysylltu ag Ynys Môn")


async def test_complete_reads_wedi_i_gwblhau_and_cwblhawyd_still_works(board, say, db):
    reply = await say(board["chair"], "diweddaru A-2 cwblhawyd Wedi gorffen")
    assert reply.text.startswith("Diolch — statws A-2 bellach yw: wedi'i gwblhau.")


def test_fixed_phrases():
    assert t("cy", "web.error_summary_title") == "Mae problem wedi codi"
    assert t("cy", "digest.language_unknown") == "Anhysbys"
    assert t("cy", "reminders.button_next_week") == "Atgoffa fi'r wythnos nesaf"
    assert t("en", "digest.negative_unquoted", count=1).startswith("1 negative response on this theme")
    assert "it is counted above" in t("en", "digest.negative_unquoted", count=1)
    assert t("en", "digest.negative_unquoted", count=2).startswith("2 negative responses")
    assert t("cy", "handlers.page_more", count=8, command="camau popeth 2").startswith("Mae 8 arall heb eu dangos")
