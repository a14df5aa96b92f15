// govsim classroom: the teacher's screen and the debrief. Nicknames are set as text, never as markup.
"use strict";
(function () {
  const TEXTS = window.govsim.TEXTS;
  const LANG = TEXTS.lang;
  const app = document.getElementById("app");
  const KIND = app.dataset.kind;  // "teacher" or "debrief"
  let view = null, version = -1, received = 0, chartKey = "";

  const {T, el} = window.govsim;
  const pct = (v) => (LANG === "nl" ? Math.round(v * 100) + " %" : Math.round(v * 100) + "%");
  const orgName = (n) => TEXTS["organisations." + n] || n.replace(/_/g, " ");
  const styleName = (s) => TEXTS["styles." + s + ".name"] || s;
  const STYLE_COLOURS = TEXTS.style_colours;  // the report palette (analysis.palette.STYLE_COLOURS)
  const LEVEL_KEYS = {"0": "l0", "0.25": "l25", "0.5": "l50", "0.75": "l75", "1": "l100"};
  const PAST = new URLSearchParams(location.search).get("past");  // a past session's debrief (kept after Restart)
  const lang = "lang=" + LANG + (PAST ? "&past=" + encodeURIComponent(PAST) : "");

  async function act(action, body) {
    const response = await fetch("/api/teacher/" + action + "?" + lang, {method: "POST",
      headers: {"content-type": "application/json"}, body: JSON.stringify(body || {})});
    if (response.status !== 200) {
      let data = {}; try { data = await response.json(); } catch (e) { data = {}; }
      const error = document.getElementById("teacher-error");
      if (error) error.textContent = data.error || ("HTTP " + response.status);
    }
  }
  const button = (id, text, action, body, cls) => el("button", {id, class: cls || "", text, onclick: () => act(action, body)});

  function secondsLeft() {
    if (view.seconds_left === null || view.seconds_left === undefined) return null;
    return view.paused ? view.seconds_left : Math.max(0, Math.round(view.seconds_left - (Date.now() - received) / 1000));
  }

  function statusBar() {
    const parts = view.phase === "debrief" ? [el("span", {id: "students", text: T("classroom.teacher.students", {n: view.seated, groups: view.groups.length})})] : [
      el("span", {id: "round", text: T("classroom.round", {n: Math.min(view.round + 1, view.rounds), total: view.rounds})}),
      el("span", {class: "count", id: "count", text: T("classroom.chosen_count", {chosen: view.chosen, seated: view.seated})}),
      el("span", {id: "students", text: T("classroom.teacher.students", {n: view.seated, groups: view.groups.length})})];
    const left = secondsLeft();
    if (view.phase === "choosing" && left !== null) parts.push(el("span", {id: "timer", text: view.paused ? T("classroom.paused") : T("classroom.seconds_left", {seconds: left})}));
    if (view.phase === "lobby") parts.push(el("span", {class: "muted", text: T("classroom.lobby")}));
    for (const s of view.shocks) parts.push(el("span", {class: "muted", text: T("classroom.teacher.shock_due", {step: s})}));
    if (view.refused_choices) parts.push(el("span", {class: "muted", id: "refused", text: T("classroom.teacher.refused_choices", {n: view.refused_choices})}));
    return el("div", {class: "card bar", id: "status"}, ...parts);
  }

  function controls() {
    const c = [];
    if (view.phase === "lobby") c.push(button("start", T("classroom.teacher.start"), "start"));
    if (view.phase === "choosing") {
      c.push(view.paused ? button("resume", T("classroom.teacher.resume"), "pause", {paused: false})
                         : button("pause", T("classroom.teacher.pause"), "pause", {paused: true}, "secondary"));
      c.push(button("extend", T("classroom.teacher.extend"), "extend", {}, "secondary"));
      c.push(button("skip", T("classroom.teacher.skip"), "skip"));
    }
    if (view.phase !== "debrief") {
      c.push(view.join_locked ? button("unlock", T("classroom.teacher.unlock"), "lock", {locked: false}, "secondary")
                              : button("lock", T("classroom.teacher.lock"), "lock", {locked: true}, "secondary"));
      c.push(view.show_partners ? button("partners", T("classroom.teacher.partners_off"), "partners", {visible: false}, "secondary")
                                : button("partners", T("classroom.teacher.partners_on"), "partners", {visible: true}, "secondary"));
      c.push(button("shock", T("classroom.teacher.shock"), "shock", {}, "secondary"));
    }
    c.push(el("a", {href: "/debrief?" + lang, id: "to-debrief"}, el("button", {class: "secondary", text: T("classroom.teacher.debrief")})));
    c.push(el("button", {id: "restart", class: "danger", text: T("classroom.teacher.restart"),
                         onclick: () => { if (confirm(T("classroom.teacher.restart_confirm"))) act("restart"); }}));
    return el("div", {class: "card"}, el("div", {class: "actions", id: "controls"}, ...c),
              el("p", {class: "error", id: "teacher-error", role: "alert"}));
  }

  function joinCard() {
    return el("div", {class: "card top", id: "join"},
      el("img", {class: "qr", id: "qr", src: "/qr.svg?v=" + encodeURIComponent(view.code), alt: T("classroom.teacher.scan")}),
      el("div", {},
        el("div", {class: "muted", text: T("classroom.join_at")}), el("div", {class: "joinurl", id: "join-url", text: view.join_url}),
        el("div", {class: "muted", text: T("classroom.code")}), el("div", {class: "code", id: "code", text: view.code}),
        el("div", {class: "muted", text: T("classroom.teacher.scan")})));
  }

  const groupColour = (g) => { const c = TEXTS.group_colours || []; return c.length ? c[g % c.length] : null; };

  function sentencesCard() {  // what happened in each group last round, one sentence each (from the model's counts)
    const items = view.groups.map((g) => {
      const item = el("li", {id: "sentence-" + (g.group + 1)},
        el("strong", {text: T("classroom.group_title", {n: g.group + 1}) + " \u00b7 " + pct(g.public_value)}),
        el("div", {class: "sentence", text: g.sentence ? g.sentence[LANG] : T("mechanisms.sentence.nothing_yet")}));
      item.style.borderLeft = "8px solid " + (groupColour(g.group) || "#888");
      return item;
    });
    return el("div", {class: "card"}, el("h2", {text: T("mechanisms.heading")}), el("ul", {class: "plain sentences"}, ...items));
  }

  function groupCards(kind) {
    const cards = el("div", {class: "groups" + (kind ? " " + kind : ""), id: "groups"});
    if (!view.groups.length) cards.append(el("p", {class: "muted", text: T("classroom.teacher.empty")}));
    for (const g of view.groups) {
      const seats = g.seats.map((s) => el("div", {class: "seat" + (s.nickname === null ? " auto" : ""), "data-group": g.group, "data-org": s.org},
        el("span", {}, el("span", {class: "muted", text: orgName(s.org_name) + ": "}),
           el("span", {class: "who", text: s.nickname === null ? T("classroom.automatic") : s.nickname}),
           s.away ? el("span", {class: "muted away", text: " (" + T("classroom.teacher.away") + ")"}) : null),
        el("span", {text: s.nickname === null || s.away ? "" : (s.chosen ? "\u2713" : "\u2026")})));
      const colour = groupColour(g.group);
      const title = el("span", {text: T("classroom.group_title", {n: g.group + 1})});
      const card = el("div", {class: "card group", id: "group-" + (g.group + 1)},
        el("h2", {}, title, el("span", {text: pct(g.public_value)})),
        kind ? null : (g.sentence ? el("p", {class: "sentence", text: g.sentence[LANG]}) : null), ...seats,
        view.round > 0 ? window.govsim.mechanisms(g.mechanisms, view.org_names) : null,
        view.round > 0 ? window.govsim.trustTable(g.mechanisms, view.org_names) : null);
      if (colour) card.style.borderTop = "6px solid " + colour;
      cards.append(card);
    }
    return cards;
  }

  function reassignCard() {
    const students = el("select", {id: "reassign-student"});
    const seats = el("select", {id: "reassign-seat"});
    for (const g of view.groups) for (const s of g.seats) {
      const label = T("classroom.group_title", {n: g.group + 1}) + " \u00b7 " + orgName(s.org_name);
      if (s.student) students.append(el("option", {value: s.student, text: s.nickname + " (" + label + ")"}));
      seats.append(el("option", {value: g.group + "/" + s.org, text: label + (s.nickname ? " \u00b7 " + s.nickname : "")}));
    }
    const move = el("button", {id: "reassign", class: "secondary", text: T("classroom.teacher.move"), onclick: () => {
      const [group, org] = seats.value.split("/").map(Number);
      act("reassign", {student: students.value, group, org});
    }});
    const remove = el("button", {id: "remove-seat", class: "danger", text: T("classroom.teacher.remove"), onclick: () => {
      if (students.value && confirm(T("classroom.teacher.remove_confirm"))) act("remove", {student: students.value});
    }});
    const crowded = (view.crowded || []).map((address) => el("div", {class: "crowded"},
      el("span", {text: T("classroom.teacher.crowded", {address})}),
      el("button", {class: "secondary allow", text: T("classroom.teacher.allow"), onclick: () => act("allow", {address})})));
    return el("div", {class: "card"}, el("h2", {text: T("classroom.teacher.reassign")}),
      el("div", {class: "reassign"}, el("label", {}, T("classroom.teacher.student"), students), el("label", {}, T("classroom.teacher.seat"), seats), move),
      el("div", {class: "actions"}, remove), ...crowded);
  }

  function chartCard(title) {
    return el("div", {class: "card"}, el("h2", {text: title}),
      el("img", {class: "chart", id: "class-chart", src: "/chart/class.svg?" + lang + "&r=" + view.round + "&g=" + view.groups.length + "&p=" + view.phase, alt: title}));
  }

  function pastCard() {  // debriefs of restarted sessions, kept on this laptop while the server runs
    const items = (view.past_sessions || []).map((p) => el("li", {},
      el("a", {href: "/debrief?lang=" + LANG + "&past=" + p.id, class: "past-session",
               text: T("classroom.debrief.past_item", {n: p.id, rounds: p.round, time: p.ended})})));
    if (!items.length) return null;
    return el("div", {class: "card", id: "past-sessions"}, el("h2", {text: T("classroom.debrief.past")}),
              el("ul", {class: "plain"}, ...items));
  }

  function exports() {
    return el("div", {class: "actions", id: "exports"},
      el("a", {href: "/export/choices.csv?" + lang, id: "export-choices", download: ""}, el("button", {class: "secondary", text: T("classroom.teacher.export_choices")})),
      el("a", {href: "/export/results.csv?" + lang, id: "export-results", download: ""}, el("button", {class: "secondary", text: T("classroom.teacher.export_results")})));
  }

  function renderTeacher() {
    const kept = ["reassign-student", "reassign-seat"].map((id) => (document.getElementById(id) || {}).value);
    if (view.phase === "lobby") {  // before the start: the join card fills the top of the projected screen
      app.replaceChildren(
        el("h1", {text: T("classroom.teacher_title")}), joinCard(), statusBar(), controls(),
        el("div", {class: "layout"}, groupCards(), el("div", {}, chartCard(T("classroom.teacher.chart")), reassignCard(), exports(), pastCard())));
    } else {  // after the start: the class chart and the groups first, the join card in a corner, controls below
      const join = joinCard();
      join.classList.add("corner");
      app.replaceChildren(
        el("div", {class: "projector-head"}, el("h1", {text: T("classroom.teacher_title")}), join), statusBar(),
        el("div", {class: "layout projected"}, chartCard(T("classroom.teacher.chart")), sentencesCard()),
        groupCards("wide"),
        controls(), el("div", {class: "layout"}, reassignCard(), el("div", {}, exports(), pastCard())));
    }
    ["reassign-student", "reassign-seat"].forEach((id, i) => {
      const select = document.getElementById(id);
      if (kept[i] && [...select.options].some((o) => o.value === kept[i])) select.value = kept[i];
    });
  }

  function cell(entry) {
    const c = entry.choice;
    const tuned = Object.entries(c.behaviour).map(([f, v]) => T("classroom.fields." + f) + ": " + T("classroom.levels." + LEVEL_KEYS[String(v)]));
    const auto = entry.source !== "student";
    const td = el("td", {class: "cell" + (auto ? " auto" : ""), title: (auto ? T("classroom." + entry.source) + " \u00b7 " : "") + tuned.join(", ")},
      styleName(c.style) + (tuned.length ? " *" : ""));
    const colour = STYLE_COLOURS[c.style] || "#888";
    if (auto) td.style.borderLeft = "8px solid " + colour; else td.style.background = colour;
    return td;
  }

  let replayRound = 1;
  function replayCard() {  // the session round by round: each group's choices and the sentence of what changed
    const last = Math.max(1, view.round);
    replayRound = Math.min(Math.max(1, replayRound), last);
    const body = el("div", {id: "replay-body"});
    const show = () => {
      const items = view.groups.map((g) => {
        const r = g.rounds[replayRound - 1];
        if (!r) return null;
        const chosen = r.choices.map((c) => orgName(view.org_names[c.org]) + ": " + styleName(c.style) + (c.source === "student" ? "" : " (" + T("classroom." + c.source) + ")"));
        return el("div", {class: "replay-group"}, el("h3", {text: T("classroom.group_title", {n: g.group + 1})}),
          el("p", {class: "sentence", text: r.sentence[LANG]}), el("p", {class: "muted", text: chosen.join(" \u00b7 ")}));
      });
      label.textContent = T("classroom.round", {n: replayRound, total: last});
      body.replaceChildren(...items.filter(Boolean));
    };
    const label = el("strong", {id: "replay-round"});
    const prev = el("button", {id: "replay-prev", class: "secondary", text: "\u25c0 " + T("classroom.debrief.previous"), onclick: () => { replayRound -= 1; replayRound = Math.max(1, replayRound); show(); }});
    const next = el("button", {id: "replay-next", class: "secondary", text: T("classroom.debrief.next") + " \u25b6", onclick: () => { replayRound = Math.min(last, replayRound + 1); show(); }});
    show();
    return el("div", {class: "card", id: "replay"}, el("h2", {text: T("classroom.debrief.replay")}),
      el("div", {class: "actions"}, prev, label, next), body);
  }

  function renderDebrief() {
    const ranking = el("ol", {class: "plain ranking", id: "ranking"});
    for (const r of view.ranking || []) {
      const label = r.reference ? T("classroom.reference", {style: styleName(r.reference).toLowerCase()}) : T("classroom.group_title", {n: r.group + 1});
      ranking.append(el("li", {}, el("span", {text: label}), el("strong", {text: pct(r.public_value)})));
    }
    const tables = view.groups.map((g) => {
      const head = el("tr", {}, el("th", {text: ""}), ...Array.from({length: view.round}, (_, i) => el("th", {text: String(i + 1)})));
      const rows = g.seats.map((s) => el("tr", {}, el("th", {}, el("div", {text: orgName(s.org_name)}),
        el("div", {class: "muted", text: s.nickname === null ? T("classroom.automatic") : s.nickname}),
        s.card ? el("div", {class: "knew", title: s.card[LANG].dilemma, text: T("classroom.card.knew") + ": " + s.card[LANG].knows}) : null),
        ...s.history.map(cell)));
      return el("div", {class: "card group", id: "debrief-group-" + (g.group + 1)},
        el("h2", {}, el("span", {text: T("classroom.group_title", {n: g.group + 1})}),
           el("span", {text: T("classroom.debrief.final", {value: pct(g.public_value)})})),
        el("div", {class: "scroll"}, el("table", {class: "chosen"}, el("thead", {}, head), el("tbody", {}, ...rows))));
    });
    app.replaceChildren(
      el("h1", {text: T("classroom.debrief.title")}), statusBar(), replayCard(),
      el("div", {class: "layout debrief"}, chartCard(T("classroom.debrief.chart")),
         el("div", {class: "card"}, el("h2", {text: T("classroom.ranking")}), ranking, exports(),
            el("div", {class: "actions"}, el("a", {href: "/teacher?lang=" + LANG}, el("button", {class: "secondary", text: T("classroom.teacher.back")}))))),
      el("h2", {text: T("classroom.debrief.who_chose")}), el("p", {class: "muted", text: T("classroom.debrief.legend_auto")}),
      el("div", {class: "debrief-groups", id: "debrief-groups"}, ...tables), ...[pastCard()].filter(Boolean));
  }

  function render() {
    if (KIND === "debrief") renderDebrief(); else renderTeacher();
    document.body.dataset.version = String(version);
    document.body.dataset.round = String(view.round);
    document.body.dataset.phase = view.phase;
  }

  async function poll() {
    if (PAST) {  // a past session does not change: one request
      const response = await fetch("/api/teacher?" + lang, {cache: "no-store"});
      if (response.status === 200) { view = await response.json(); version = view.version; render(); }
      else app.replaceChildren(el("p", {class: "error", text: "HTTP " + response.status}));
      return;
    }
    for (;;) {
      try {
        const response = await fetch("/api/teacher?" + lang + "&v=" + version, {cache: "no-store"});
        if (response.status !== 200) { await new Promise((r) => setTimeout(r, 2000)); continue; }
        const data = await response.json();
        if (data.version !== version) { view = data; version = data.version; received = Date.now(); render(); }
      } catch (e) { await new Promise((r) => setTimeout(r, 2000)); }
    }
  }
  setInterval(() => {
    if (!view || view.phase !== "choosing") return;
    const bar = document.getElementById("status");
    if (bar) bar.replaceWith(statusBar());
  }, 1000);
  poll();
})();
