"""The practice mode (docs/practice.md) as a reader uses it, with the keyboard alone.

In Debian's Chromium, at 390 px and 1280 px, light and dark: from the home page's link, one
round through
the Databases section: every question shown once, the 30-second timer counting down and
running out, the reveal (What to say and every follow-up, from assets/practice.json), each
question marked, the marks kept across a reload that resumes the round, and the questions
marked "review" opening the next round. Half of the round runs with the network cut off.
Every request the page makes is recorded; none may leave loopback.
"""

import json

import pytest
import rehearse

from support.site import LOOPBACK, ROOT, loopback_context

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("untraced_module")]

SHOTS = ROOT / "screenshots" / "practice"
SECTION = "databases"
MARKS = "practice.marks.v1"
ROUND = "practice.round.v1"


def _sections() -> list[dict]:
    return json.loads(rehearse.PRACTICE_JSON.read_text())["sections"]


def _names() -> list[str]:
    return [s["name"] for s in _sections()]


def _section() -> dict:
    return next(s for s in _sections() if s["name"] == SECTION)


def _tab_to(page, selector: str, backwards: bool = False, limit: int = 30) -> None:
    """Move the focus with Tab (or Shift+Tab) until it is on `selector`."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _shown(page) -> str:
    return page.locator(".practice-card").get_attribute("data-question")


@pytest.mark.parametrize("scheme", ("light", "dark"))
@pytest.mark.parametrize("width", (390, 1280))
def test_a_full_round_by_keyboard_with_timer_reveal_marks_and_reload(
        browser, site, width, scheme):
    section = _section()
    by_key = {f"{SECTION}/{q['id']}": q for q in section["questions"]}
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, requests = loopback_context(browser, site, color_scheme=scheme,
                                         viewport={"width": width, "height": 900})
    errors = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.clock.install()  # the page's own clock, so the test can move it on
        page.goto("/")
        assert page.evaluate("document.body.dataset.mdColorScheme") == \
            {"light": "default", "dark": "slate"}[scheme]
        page.wait_for_load_state("networkidle")
        # Other pages load only the small starter: the practice mode comes with its page.
        assert [u for u in requests if "practice" in u] == []
        page.locator("article a[href$='practice/']").first.click()  # the home page's link
        page.wait_for_url("**/practice/")
        page.locator(".practice-setup").wait_for()
        # Material announces each page on document$ (after an instant navigation too): the
        # practice mode starts from there, once per page, whatever the number of emissions.
        page.evaluate("document$.next(document)")
        assert page.locator(".practice-setup").count() == 1

        # Choose Databases alone, by keyboard: untick every other section, then start. The
        # focus starts on "Start a round", after the boxes: Shift+Tab walks them last to first.
        names = [b.get_attribute("value") for b in page.locator("input[name=section]").all()]
        assert names == _names() and SECTION in names  # one box per section, in order
        assert page.evaluate("document.activeElement.matches('button.md-button--primary')")
        for name in reversed(names):
            if name != SECTION:
                _tab_to(page, f"input[value={name!r}]", backwards=True)
                page.keyboard.press("Space")
        assert [b.get_attribute("value") for b in
                page.locator("input[name=section]:checked").all()] == [SECTION]
        _tab_to(page, "button.md-button--primary")
        page.keyboard.press("Enter")

        shown, marks, seconds = [], {}, {}
        for i in range(len(by_key)):
            card = page.locator(".practice-card")
            card.wait_for()
            key = _shown(page)
            assert key in by_key and key not in shown
            shown.append(key)
            assert page.locator(".practice-progress").inner_text().startswith(
                f"Question {i + 1} of {len(by_key)}")
            timer = page.locator(".practice-timer")
            if i == 0:
                assert timer.inner_text() == "0:30" and timer.is_visible()
                page.clock.run_for(2_500)
                seconds["after 2.5 s"] = int(timer.get_attribute("data-remaining"))
                assert timer.inner_text() == f"0:{seconds['after 2.5 s']:02d}"
                page.clock.run_for(28_000)
                assert timer.inner_text() == "Time's up"
                page.screenshot(path=SHOTS / f"question-{width}-{scheme}.png")
                context.set_offline(True)  # from here on, nothing but the page itself
            page.keyboard.press("Space")  # reveal (the focus is on the Reveal button)
            answer = page.locator(".practice-answer")
            answer.wait_for()
            q = by_key[key]
            assert page.locator(".practice-say").inner_html() == q["say"]
            assert page.locator(".practice-follow-title").count() == len(q["follow_ups"]) > 0
            assert page.locator(".practice-follow-answer").count() == len(q["follow_ups"])
            assert page.locator(".practice-line code").text_content() == q["line"]
            if i == 0:
                page.screenshot(path=SHOTS / f"answer-{width}-{scheme}.png", full_page=True)
            knew = i % 2 == 0
            page.keyboard.press("k" if knew else "r")
            marks[key] = "knew" if knew else "review"
            if i == 2:  # half-way: a reload keeps the marks and resumes the round
                page.locator(f".practice-card:not([data-question='{key}'])").wait_for()
                context.set_offline(False)
                page.reload()
                page.locator(".practice-card").wait_for()
                assert page.locator(".practice-progress").inner_text().startswith(
                    f"Question 4 of {len(by_key)}")
                kept = page.evaluate(f"JSON.parse(localStorage[{MARKS!r}])")
                assert {k: v["last"] for k, v in kept.items()} == marks

        page.locator(".practice-done").wait_for()
        assert sorted(shown) == sorted(by_key)  # every question once
        stored = page.evaluate(f"JSON.parse(localStorage[{MARKS!r}])")
        assert {k: v["last"] for k, v in stored.items()} == marks
        review = {k for k, v in marks.items() if v == "review"}
        summary = page.locator(".practice-summary").inner_text()
        assert summary.startswith(f"Knew {len(marks) - len(review)}, to review {len(review)}, "
                                  f"of {len(by_key)}.")
        # The knew-it ones are due days later; the review ones at once.
        assert all(stored[k]["due"] > stored[k]["at"] + 86_000_000
                   for k in marks if k not in review)
        assert all(stored[k]["due"] <= stored[k]["at"] for k in review)

        # The next round opens with the questions marked "review".
        page.keyboard.press("Enter")  # the focus is on "another round"
        page.locator(".practice-setup").wait_for()
        assert page.locator(f".practice-tally[data-section={SECTION}]").inner_text().strip() == \
            f"· marked {len(marks)}, {len(review)} to review ·"
        page.keyboard.press("Enter")  # the focus is on "Start a round"
        page.locator(".practice-card").wait_for()
        deck = page.evaluate(f"JSON.parse(localStorage[{ROUND!r}]).deck")
        assert set(deck[:len(review)]) == review and _shown(page) in review
        width_ok = page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
        assert width_ok, "the page scrolls sideways"
        shape = page.evaluate("""() => {
            const size = (s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize);
            return {card: document.querySelector('.practice-card').getBoundingClientRect().width,
                    timer: size('.practice-timer'), text: size('.practice-progress')};
        }""")
        page.screenshot(path=SHOTS / f"next-round-{width}-{scheme}.png")
    finally:
        context.close()
    outside = [u for u in requests if not LOOPBACK.match(u)]
    assert errors == []
    assert outside == [], f"requests left loopback: {outside}"
    print(f"\npractice at {width} px, {scheme}: {len(shown)} of {len(by_key)} questions shown "
          f"once, {len(review)} marked review; timer {seconds['after 2.5 s']} s left after "
          f"2.5 s, then Time's up; marks kept across a reload; next round opens with the "
          f"{len(review)} to review; {len(requests)} requests, all to loopback; card "
          f"{shape['card']:.0f} px wide, timer {shape['timer']:.1f} px, progress line "
          f"{shape['text']:.1f} px")
