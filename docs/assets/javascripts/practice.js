/* The practice mode (docs/practice.md): a question, 30 seconds to answer aloud, then the
   answer and a mark. Questions come from assets/practice.json (tools/rehearse.py writes it
   from the pages); marks stay in this browser's localStorage. Nothing leaves the page's own
   site. rehearse.js loads this file on the page that has #practice, then calls
   practiceMode.init() there, and again after each instant navigation to such a page.

   Schedule (a small Leitner box): "knew it" moves a question up a box and makes it due
   1, 3, 7 then 14 days later; "review" puts it back in box 0, due at once. A round shows
   every question of the chosen sections once: first those marked "review", then those never
   seen (each group in random order), then the others, soonest due first. */
(function () {
  "use strict";

  const DATA = new URL("../practice.json", document.currentScript.src);
  const MARKS = "practice.marks.v1"; // question id -> {box, due, last, at}
  const ROUND = "practice.round.v1"; // {sections, deck: [ids], pos, revealed, tally}
  const CHOSEN = "practice.sections.v1";
  const SECONDS = 30;
  const DAYS = [0, 1, 3, 7, 14]; // days until due, by box
  const DAY_MS = 86400000;

  let data = null; // the questions, once loaded
  let timer = null; // the interval of the running countdown
  let root = null; // #practice on the current page

  const load = (key, fallback) => {
    try {
      const value = JSON.parse(localStorage.getItem(key));
      return value === null ? fallback : value;
    } catch (e) {
      return fallback;
    }
  };
  const save = (key, value) => localStorage.setItem(key, JSON.stringify(value));

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "html") node.innerHTML = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    node.append(...children.filter(Boolean));
    return node;
  };

  function questions(sectionNames) {
    const found = [];
    for (const s of data.sections) {
      if (!sectionNames.includes(s.name)) continue;
      for (const q of s.questions) found.push({ ...q, key: `${s.name}/${q.id}`, section: s });
    }
    return found;
  }

  const byKey = (key) => {
    const [name] = key.split("/");
    return questions([name]).find((q) => q.key === key);
  };

  function shuffle(list) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  }

  // The order of a round: "review" first, then never seen, then the rest by due date.
  function deck(sectionNames) {
    const marks = load(MARKS, {});
    const group = (q) => {
      const m = marks[q.key];
      return !m ? 1 : m.last === "review" ? 0 : 2;
    };
    const all = shuffle(questions(sectionNames));
    return all
      .map((q, i) => ({ q, g: group(q), due: (marks[q.key] || {}).due || 0, i }))
      .sort((a, b) => a.g - b.g || (a.g === 2 ? a.due - b.due : 0) || a.i - b.i)
      .map((x) => x.q.key);
  }

  function mark(key, knew) {
    const marks = load(MARKS, {});
    const old = marks[key] || { box: 0 };
    const box = knew ? Math.min(old.box + 1, DAYS.length - 1) : 0;
    const now = Date.now();
    marks[key] = { box, due: now + DAYS[box] * DAY_MS, last: knew ? "knew" : "review", at: now };
    save(MARKS, marks);
  }

  function stopTimer() {
    if (timer !== null) clearInterval(timer);
    timer = null;
  }

  function startTimer() {
    stopTimer();
    const shown = root.querySelector(".practice-timer");
    const bar = root.querySelector(".practice-timer-bar");
    const end = Date.now() + SECONDS * 1000;
    const tick = () => {
      const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      shown.dataset.remaining = String(left);
      shown.textContent = left > 0 ? `0:${String(left).padStart(2, "0")}` : "Time's up";
      shown.classList.toggle("practice-timer--over", left === 0);
      bar.value = left;
      if (left === 0) stopTimer();
    };
    tick();
    timer = setInterval(tick, 200);
  }

  // ---- views ----

  function setup() {
    stopTimer();
    const chosen = load(CHOSEN, data.sections.map((s) => s.name));
    const marks = load(MARKS, {});
    const boxes = data.sections.map((s) => {
      const seen = s.questions.filter((q) => marks[`${s.name}/${q.id}`]);
      const review = seen.filter((q) => marks[`${s.name}/${q.id}`].last === "review").length;
      return el("li", {},
        el("label", {},
          el("input", { type: "checkbox", name: "section", value: s.name,
                        ...(chosen.includes(s.name) ? { checked: "" } : {}) }),
          ` ${s.title} (${s.label}, ${s.questions.length} questions)`),
        el("span", { class: "practice-tally", "data-section": s.name,
                     text: ` · marked ${seen.length}, ${review} to review · ` }),
        el("a", { href: s.sheet, text: "cheat sheet" }));
    });
    const start = el("button", { class: "md-button md-button--primary", type: "button",
                                 onclick: () => begin() }, "Start a round");
    const forget = el("button", { class: "md-button", type: "button", onclick: () => {
      localStorage.removeItem(MARKS);
      localStorage.removeItem(ROUND);
      setup();
    } }, "Forget my marks");
    const form = el("fieldset", { class: "practice-sections" },
      el("legend", { text: "Sections" }), el("ul", {}, ...boxes));
    root.replaceChildren(el("div", { class: "practice-setup" }, form,
                            el("p", {}, start, " ", forget),
                            el("p", { class: "practice-error", role: "alert" })));
    start.focus();
  }

  function begin() {
    const chosen = [...root.querySelectorAll("input[name=section]:checked")].map((i) => i.value);
    if (!chosen.length) {
      root.querySelector(".practice-error").textContent = "Choose at least one section.";
      return;
    }
    save(CHOSEN, chosen);
    save(ROUND, { sections: chosen, deck: deck(chosen), pos: 0, revealed: false,
                  tally: { knew: 0, review: 0 } });
    show();
  }

  function show() {
    const round = load(ROUND, null);
    if (!round || round.pos >= round.deck.length) return round ? done(round) : setup();
    const q = byKey(round.deck[round.pos]);
    if (!q) { // the pages changed since this round began
      localStorage.removeItem(ROUND);
      return setup();
    }
    const reveal = el("button", { class: "md-button md-button--primary", type: "button",
                                  onclick: () => revealAnswer() }, "Reveal the answer");
    const card = el("article", { class: "practice-card", "data-question": q.key },
      el("p", { class: "practice-progress",
                text: `Question ${round.pos + 1} of ${round.deck.length} · ${q.section.title}` }),
      el("h2", { class: "practice-question", text: q.title }),
      el("p", { class: "practice-clock" },
        el("span", { class: "practice-timer", role: "timer", "aria-label": "time left",
                     text: "0:30" }),
        el("progress", { class: "practice-timer-bar", max: String(SECONDS),
                         value: String(SECONDS), "aria-hidden": "true" })),
      el("p", { class: "practice-hint", text: "Answer aloud, then reveal." }),
      el("p", { class: "practice-actions" }, reveal));
    root.replaceChildren(card);
    startTimer();
    if (round.revealed) revealAnswer();
    else reveal.focus();
  }

  function revealAnswer() {
    const round = load(ROUND, null);
    const card = root.querySelector(".practice-card");
    if (!round || !card || card.querySelector(".practice-answer")) return;
    stopTimer();
    round.revealed = true;
    save(ROUND, round);
    const q = byKey(round.deck[round.pos]);
    const follow = q.follow_ups.map((f) =>
      el("li", {}, el("p", { class: "practice-follow-title", html: f.title }),
         el("div", { class: "practice-follow-answer", html: f.answer })));
    const knew = el("button", { class: "md-button md-button--primary", type: "button",
                                onclick: () => next(true) }, "Knew it");
    const again = el("button", { class: "md-button", type: "button",
                                 onclick: () => next(false) }, "Review");
    const answer = el("section", { class: "practice-answer" },
      el("h3", { text: "What to say" }),
      el("blockquote", { class: "practice-say", html: q.say }),
      q.line && el("p", { class: "practice-line" }, el("code", { text: q.line })),
      follow.length && el("h3", { text: "Follow-up questions" }),
      follow.length && el("ol", { class: "practice-follow-ups" }, ...follow),
      el("p", {}, el("a", { href: q.url, text: "The full answer" })));
    card.querySelector(".practice-hint").remove();
    card.querySelector(".practice-actions").replaceChildren(knew, " ", again);
    card.insertBefore(answer, card.querySelector(".practice-actions"));
    knew.focus();
  }

  function next(knew) {
    const round = load(ROUND, null);
    if (!round || !round.revealed) return;
    mark(round.deck[round.pos], knew);
    round.tally[knew ? "knew" : "review"] += 1;
    round.pos += 1;
    round.revealed = false;
    save(ROUND, round);
    show();
  }

  function done(round) {
    stopTimer();
    const again = el("button", { class: "md-button md-button--primary", type: "button",
                                 onclick: () => { localStorage.removeItem(ROUND); setup(); } },
                     "Choose sections for another round");
    root.replaceChildren(el("div", { class: "practice-done" },
      el("h2", { text: "Round done" }),
      el("p", { class: "practice-summary",
                text: `Knew ${round.tally.knew}, to review ${round.tally.review}, ` +
                      `of ${round.deck.length}. The ones to review open your next round.` }),
      el("p", {}, again)));
    again.focus();
  }

  // One listener for the whole visit: Material swaps pages without reloading the script.
  document.addEventListener("keydown", (event) => {
    if (!root || !root.isConnected || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const onControl = target.closest && target.closest("button, a, summary, label");
    const card = root.querySelector(".practice-card");
    const revealed = card && card.querySelector(".practice-answer");
    const key = event.key.toLowerCase();
    let act = null;
    if ((key === "enter" || key === " ") && !onControl) {
      if (card && !revealed) act = revealAnswer;
      else if (!card) act = () => root.querySelector("button.md-button--primary").click();
    } else if ((key === "k" || key === "1") && revealed) act = () => next(true);
    else if ((key === "r" || key === "2") && revealed) act = () => next(false);
    else if (key === "t" && card && !revealed) act = startTimer;
    if (act) {
      event.preventDefault();
      act();
    }
  });

  function init() {
    stopTimer();
    root = document.getElementById("practice");
    if (!root) return;
    const ready = data ? Promise.resolve() :
      fetch(DATA).then((r) => r.json()).then((json) => { data = json; });
    ready.then(() => (load(ROUND, null) ? show() : setup())).catch((e) => {
      root.textContent = `The questions could not be loaded: ${e}`;
    });
  }

  window.practiceMode = { init };
})();
