"""The consultation form in a real headless Chromium: both languages, errors, keyboard only, axe."""

from datetime import timedelta

from playwright.async_api import expect
from sqlmodel import select

from engagement.worker import ANALYSER
from storage.models import Answer, Response, utcnow
from tests.engagement_api.conftest import seed_consultation
from tests.web.conftest import AXE

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


async def axe_violations(page) -> list:
    assert AXE.exists(), "axe-core is missing: run scripts/setup (npm ci) first"
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                                 AXE_TAGS)
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]


async def responses(db):
    async with db.session() as s:
        return (await s.exec(select(Response))).all()


async def test_fill_and_submit_in_english(site, page):
    base, db, app = site
    await page.goto(f"{base}/consultations/bws?lang=en")
    assert await page.get_attribute("html", "lang") == "en"
    await page.click("text=Respond to this consultation")
    await page.fill("#answer-q1", "More buses to Llangefni please <script>alert(1)</script>")
    await page.check("#group-bws-young")
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Response received")
    reference = (await page.locator(".reference").inner_text()).strip()
    (response,) = await responses(db)
    # Nothing was pre-ticked: the language is the analysis's to find.
    assert response.reference == reference and response.language is None and response.channel == "web"
    await app[ANALYSER].analyse_pending()
    (response,) = await responses(db)
    assert response.language == "en" and not response.language_given
    async with db.session() as s:
        assert (await s.exec(select(Answer.text))).one().endswith("<script>alert(1)</script>")


async def test_fill_and_submit_in_welsh_and_withdraw(site, page):
    base, db, app = site
    await page.goto(f"{base}/consultations/bws/respond?lang=cy")
    assert await page.get_attribute("html", "lang") == "cy"
    await expect(page.locator("h1")).to_have_text("Ymateb: Bysiau lleol")
    await page.fill("#answer-welsh-language", "Mae angen gwasanaeth bws yn Gymraeg — diolch yn fawr")
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Ymateb wedi dod i law")
    reference = (await page.locator(".reference").inner_text()).strip()
    code = (await page.locator(".code").inner_text()).strip()
    await app[ANALYSER].analyse_pending()
    (response,) = await responses(db)
    assert response.language == "cy"
    # The language choice is remembered: the withdraw page opens in Welsh without ?lang.
    await page.goto(f"{base}/consultations/withdraw")
    assert await page.get_attribute("html", "lang") == "cy"
    await page.fill("#reference", reference)
    await page.fill("#code", code)
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Ymateb wedi'i dynnu'n ôl")
    (response,) = await responses(db)
    assert response.withdrawn_at is not None


async def test_empty_submission_shows_the_error_summary(site, page):
    base, db, _ = site
    await page.goto(f"{base}/consultations/bws/respond?lang=en")
    await page.click("button[type=submit]")
    await page.wait_for_selector(".error-summary")
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
    await page.wait_for_selector(".error-summary")
    assert (await page.title()).startswith("Gwall: ")


async def test_keyboard_alone(site, page):
    """Tab, Space and Enter only: no clicks, no arrow keys."""
    base, db, app = site
    await page.goto(f"{base}/consultations/bws?lang=en")
    focused = []
    for _ in range(40):
        await page.keyboard.press("Tab")
        element = await page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        focused.append(element)
        if element == "Respond to this consultation":
            await page.keyboard.press("Enter")
            await page.wait_for_selector("#answer-q1")
        elif element == "answer-q1":
            await page.keyboard.type("Typed with the keyboard only")
        elif element == "group-bws-young":  # no option is chosen for you, so Tab lands on the first
            await page.keyboard.press("Space")
        elif element == "email":
            await page.keyboard.type("rhian@example.org")
        elif element in ("contact_consent", "quote_consent"):
            await page.keyboard.press("Space")
        elif element == "Send your response":
            await page.keyboard.press("Enter")
            break
    await page.wait_for_selector(".reference")
    assert focused[0] == "Skip to main content"
    assert "website" not in focused  # the honeypot is out of the tab order
    (response,) = await responses(db)
    async with db.session() as s:
        assert (await s.exec(select(Answer.text))).one() == "Typed with the keyboard only"
    assert response.group_id is not None and response.email == "rhian@example.org" and response.contact_consent
    assert response.quote_consent  # "you may quote my words", ticked with the space bar
    await app[ANALYSER].analyse_pending()
    assert (await responses(db))[0].language == "en"


async def test_error_summary_is_focused_and_citizen_text_stays_escaped(site, page):
    base, db, _ = site
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await page.goto(f"{base}/consultations/bws/respond?lang=cy")
    answer = "<script>alert(1)</script><img src=x onerror=alert(2)>" + "a" * 5000
    await page.fill("#answer-q1", answer)
    await page.click("button[type=submit]")
    # The page with the errors comes back and its summary takes the focus as it loads.
    await page.wait_for_selector("#error-summary")
    await page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'",
                                 timeout=5000)
    assert (await page.title()).startswith("Gwall: ")
    assert "yn ormod" in await page.locator("#answer-q1-error").inner_text()  # says by how much
    assert await page.input_value("#answer-q1") == answer  # kept, not cut off
    assert dialogs == [] and await responses(db) == []


async def test_live_character_count(site, page):
    base, _, _ = site
    await page.goto(f"{base}/consultations/bws/respond?lang=en")
    count = page.locator("#answer-q1 ~ .character-count[aria-hidden=true]")
    assert await count.inner_text() == "You have 5,000 characters remaining"
    await page.fill("#answer-q1", "x" * 5001)
    assert await count.inner_text() == "You have 1 character too many"
    await page.goto(f"{base}/consultations/bws/respond?lang=cy")
    await page.fill("#answer-q1", "Da")
    assert await count.inner_text() == "Mae gennych 4,998 nod ar ôl"
    # The limit stays the field's description for screen readers.
    assert await page.locator("#answer-q1-info").inner_text() == "Gallwch roi hyd at 5,000 nod"


async def test_refused_in_the_browser_too_fast_and_honeypot(site, page):
    base, db, app = site
    from cyswllt.appkeys import SETTINGS

    app[SETTINGS].form_min_seconds = 60
    try:
        await page.goto(f"{base}/consultations/bws/respond?lang=en")
        await page.fill("#answer-q1", "Sent at once")
        await page.click("button[type=submit]")
        await expect(page.locator("#error-summary")).to_contain_text("was sent very soon after it opened")
        assert await page.input_value("#answer-q1") == "Sent at once"  # the words are still there
        assert (await page.title()).startswith("Error: ")
        assert await axe_violations(page) == []
    finally:
        app[SETTINGS].form_min_seconds = 0
    await page.click("button[type=submit]")  # sent again as shown, a moment later: accepted
    await page.wait_for_selector(".reference")
    await page.goto(f"{base}/consultations/bws/respond?lang=cy")
    await page.fill("#answer-q1", "Sbam")
    await page.evaluate("document.getElementById('website').value = 'http://spam.example'")
    await page.click("button[type=submit]")
    await expect(page.locator("#error-summary")).to_contain_text("Ni chafodd eich ymateb ei anfon")
    assert await page.input_value("#answer-q1") == "Sbam"
    assert await page.input_value("#website") == ""
    assert [r.text for r in await responses(db)] == [None]  # only the first, resent one (answers only)


async def test_axe_finds_no_violations_in_either_language(site, page):
    base, db, _ = site
    await seed_consultation(db, "old", opens=utcnow() - timedelta(weeks=20), closes=utcnow() - timedelta(weeks=1))
    for lang in ("en", "cy"):
        for path in ("/consultations", "/consultations/bws", "/consultations/bws/respond", "/consultations/withdraw",
                     "/consultations/nope", "/consultations/old", "/consultations/old/respond"):
            await page.goto(f"{base}{path}?lang={lang}")
            assert await page.get_attribute("html", "lang") == lang
            assert await axe_violations(page) == [], (lang, path)
        await page.goto(f"{base}/consultations/bws/respond?lang={lang}")
        await page.screenshot(path=f"/tmp/cyswllt-form-{lang}.png", full_page=True)
        await page.goto(f"{base}/consultations/bws/respond?lang={lang}")
        await page.click("button[type=submit]")  # the error state
        assert await axe_violations(page) == [], (lang, "errors")
        await page.screenshot(path=f"/tmp/cyswllt-errors-{lang}.png", full_page=True)
        await page.fill("#answer-q1", "Da iawn" if lang == "cy" else "Good")
        await page.click("button[type=submit]")
        await page.wait_for_selector(".reference")
        assert await axe_violations(page) == [], (lang, "thank you")
        await page.screenshot(path=f"/tmp/cyswllt-thanks-{lang}.png", full_page=True)
        await page.goto(f"{base}/consultations/withdraw?lang={lang}")
        await page.click("button[type=submit]")  # the withdraw page's error state
        assert await axe_violations(page) == [], (lang, "withdraw errors")


async def test_language_switch_opens_the_same_page_in_the_other_language(site, page):
    base, _, _ = site
    await page.goto(f"{base}/consultations/bws/respond?lang=en")
    await page.click("text=Cymraeg")
    assert page.url.endswith("/consultations/bws/respond?lang=cy")
    assert await page.get_attribute("html", "lang") == "cy"
    await expect(page.locator("h1")).to_have_text("Ymateb: Bysiau lleol")
    await page.goto(f"{base}/consultations/bws")  # remembered
    await expect(page.locator("h1")).to_have_text("Bysiau lleol")
    await page.click("text=English")
    await expect(page.locator("h1")).to_have_text("Local buses")
