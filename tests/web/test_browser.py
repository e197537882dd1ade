"""The consultation form in a real headless Chromium: both languages, errors, keyboard only, axe."""

from sqlmodel import select

from storage.models import Answer, Response
from tests.web.conftest import AXE

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


async def axe_violations(page) -> list:
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                                 AXE_TAGS)
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]


async def responses(db):
    async with db.session() as s:
        return (await s.exec(select(Response))).all()


async def test_fill_and_submit_in_english(site, page):
    base, db, _ = site
    await page.goto(f"{base}/consultations/bws?lang=en")
    assert await page.get_attribute("html", "lang") == "en"
    await page.click("text=Respond to this consultation")
    await page.fill("#answer-q1", "More buses to Llangefni please <script>alert(1)</script>")
    await page.check("#group-bws-young")
    await page.click("button[type=submit]")
    assert await page.locator("h1").inner_text() == "Response received"
    reference = (await page.locator(".reference").inner_text()).strip()
    (response,) = await responses(db)
    assert response.reference == reference and response.language == "en" and response.channel == "web"
    async with db.session() as s:
        assert (await s.exec(select(Answer.text))).one().endswith("<script>alert(1)</script>")


async def test_fill_and_submit_in_welsh_and_withdraw(site, page):
    base, db, _ = site
    await page.goto(f"{base}/consultations/bws/respond?lang=cy")
    assert await page.get_attribute("html", "lang") == "cy"
    assert await page.locator("h1").inner_text() == "Ymateb: Bysiau lleol"
    await page.fill("#answer-welsh-language", "Mae angen gwasanaeth bws yn Gymraeg — diolch yn fawr")
    await page.click("button[type=submit]")
    assert await page.locator("h1").inner_text() == "Ymateb wedi dod i law"
    reference = (await page.locator(".reference").inner_text()).strip()
    code = (await page.locator(".code").inner_text()).strip()
    (response,) = await responses(db)
    assert response.language == "cy"
    # The language choice is remembered: the withdraw page opens in Welsh without ?lang.
    await page.goto(f"{base}/consultations/withdraw")
    assert await page.get_attribute("html", "lang") == "cy"
    await page.fill("#reference", reference)
    await page.fill("#code", code)
    await page.click("button[type=submit]")
    assert await page.locator("h1").inner_text() == "Ymateb wedi'i dynnu'n ôl"
    (response,) = await responses(db)
    assert response.withdrawn_at is not None


async def test_empty_submission_shows_the_error_summary(site, page):
    base, db, _ = site
    await page.goto(f"{base}/consultations/bws/respond?lang=en")
    await page.click("button[type=submit]")
    assert (await page.title()).startswith("Error: ")
    summary = page.locator(".error-summary")
    assert "There is a problem" in await summary.inner_text()
    link = summary.locator("a").first
    assert await link.get_attribute("href") == "#answer-q1"
    await link.click()
    assert await page.evaluate("document.activeElement.id") == "answer-q1"
    assert await responses(db) == []
    await page.goto(f"{base}/consultations/bws/respond?lang=cy")
    await page.click("button[type=submit]")
    assert (await page.title()).startswith("Gwall: ")


async def test_keyboard_alone(site, page):
    base, db, _ = site
    await page.goto(f"{base}/consultations/bws/respond?lang=en")
    focused = []
    for _ in range(30):
        await page.keyboard.press("Tab")
        element = await page.evaluate("document.activeElement.id || document.activeElement.tagName")
        focused.append(element)
        if element == "answer-q1":
            await page.keyboard.type("Typed with the keyboard only")
        if element == "group-none":  # Tab enters a radio group at its checked option; arrows choose
            await page.keyboard.press("ArrowUp")
        if element == "BUTTON":
            await page.keyboard.press("Enter")
            break
    await page.wait_for_selector(".reference")
    assert "website" not in focused  # the honeypot is out of the tab order
    (response,) = await responses(db)
    async with db.session() as s:
        assert (await s.exec(select(Answer.text))).one() == "Typed with the keyboard only"
    assert response.group_id is not None


async def test_axe_finds_no_violations_in_either_language(site, page):
    base, db, _ = site
    for lang in ("en", "cy"):
        for path in ("/consultations", "/consultations/bws", "/consultations/bws/respond", "/consultations/withdraw"):
            await page.goto(f"{base}{path}?lang={lang}")
            assert await axe_violations(page) == [], (lang, path)
        await page.goto(f"{base}/consultations/bws/respond?lang={lang}")
        await page.click("button[type=submit]")  # the error state
        assert await axe_violations(page) == [], (lang, "errors")
        await page.fill("#answer-q1", "Da iawn" if lang == "cy" else "Good")
        await page.click("button[type=submit]")
        await page.wait_for_selector(".reference")
        assert await axe_violations(page) == [], (lang, "thank you")
    await page.screenshot(path="/tmp/cyswllt-thanks.png", full_page=True)
