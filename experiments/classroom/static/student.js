// govsim classroom: a student's page. Everything shown from the server is set as text, never as markup.
"use strict";
(function () {
  const TEXTS = window.govsim.TEXTS;
  const LANG = TEXTS.lang;
  // The seat token is kept per tab (a reload keeps the seat, a second tab may be a second student) and in
  // the browser's storage (a closed and reopened tab returns to its seat, if no other tab holds it now).
  const KEY = "govsim_classroom_seat";
  const app = document.getElementById("app");
  const params = new URLSearchParams(location.search);
  let token = sessionStorage.getItem(KEY);
  const keep = (t) => { sessionStorage.setItem(KEY, t); try { localStorage.setItem(KEY, t); } catch (e) { /* private mode */ } };
  const forget = () => { sessionStorage.removeItem(KEY); try { localStorage.removeItem(KEY); } catch (e) { /* */ } };
  let view = null, version = -1, formKey = "", resultsKey = "", draft = null, received = 0, polling = false;
  let message = "";

  const {T, el} = window.govsim;
  const num = (v, d) => { const t = Number(v).toFixed(d); return LANG === "nl" ? t.replace(".", ",") : t; };
  const pct = (v) => (LANG === "nl" ? Math.round(v * 100) + " %" : Math.round(v * 100) + "%");
  const orgName = (n) => TEXTS["organisations." + n] || n.replace(/_/g, " ");
  const styleName = (s) => TEXTS["styles." + s + ".name"] || s;
  const STYLE_COLOURS = TEXTS.style_colours;  // the report palette (analysis.palette.STYLE_COLOURS)
  const LEVEL_KEYS = {"0": "l0", "0.25": "l25", "0.5": "l50", "0.75": "l75", "1": "l100"};

  async function api(path, body) {
    const response = await fetch(path + (path.includes("?") ? "&" : "?") + "lang=" + LANG, body === undefined ? {cache: "no-store"} : {
      method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body)});
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    return {status: response.status, data};
  }

  // ---------------------------------------------------------------- join
  function renderJoin() {
    app.replaceChildren();
    const code = el("input", {type: "text", id: "code", name: "code", autocomplete: "off", autocapitalize: "characters",
                              maxlength: "8", value: params.get("code") || ""});
    const nick = el("input", {type: "text", id: "nickname", name: "nickname", maxlength: "24", autocomplete: "off",
                              placeholder: T("classroom.nickname_hint")});
    const error = el("p", {class: "error", id: "join-error", role: "alert", text: message});
    const form = el("form", {class: "card", id: "join-form"},
      el("h1", {text: T("classroom.join_heading")}),
      el("label", {for: "code", text: T("classroom.code")}), code,
      el("label", {for: "nickname", text: T("classroom.nickname")}), nick,
      error, el("div", {class: "actions"}, el("button", {type: "submit", id: "join", text: T("classroom.join")})));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const {status, data} = await api("/api/join", {nickname: nick.value, code: code.value});
      if (status === 200 && data.token) {
        token = data.token; keep(token); message = ""; poll();
      } else {
        error.textContent = data.error || ("HTTP " + status);
      }
    });
    app.append(form);
  }

  // ---------------------------------------------------------------- seat
  function shell() {
    if (document.getElementById("status")) return;
    app.replaceChildren(
      el("div", {class: "card bar", id: "status"}),
      el("div", {class: "card", id: "seat"}),
      el("section", {class: "card", id: "choice"}),
      el("section", {class: "card", id: "results"}),
      el("section", {class: "card", id: "partners"}),
      el("div", {class: "actions"}, el("button", {class: "danger", id: "leave", text: T("classroom.leave"), onclick: leave})));
  }

  function secondsLeft() {
    if (view.seconds_left === null || view.seconds_left === undefined) return null;
    return view.paused ? view.seconds_left : Math.max(0, Math.round(view.seconds_left - (Date.now() - received) / 1000));
  }

  function renderStatus() {
    const bar = document.getElementById("status");
    if (!bar) return;
    if (view.phase === "debrief") {  // after the last round: the end, not a round that waits
      bar.replaceChildren(el("span", {id: "round", text: T("classroom.over")}),
                          el("span", {class: "muted", text: T("classroom.rounds_played", {n: view.round})}));
      return;
    }
    const parts = [el("span", {id: "round", text: T("classroom.round", {n: Math.min(view.round + 1, view.rounds), total: view.rounds})}),
                   el("span", {class: "count", id: "count", text: T("classroom.chosen_count", {chosen: view.chosen, seated: view.seated})})];
    const left = secondsLeft();
    if (view.phase === "choosing" && left !== null) {
      parts.push(el("span", {id: "timer", text: view.paused ? T("classroom.paused") : T("classroom.seconds_left", {seconds: left})}));
    }
    if (view.phase === "lobby") parts.push(el("span", {class: "muted", text: T("classroom.lobby")}));
    bar.replaceChildren(...parts);
  }

  let cardOpen = null;
  function renderSeat() {
    const seat = view.seat;
    const box = document.getElementById("seat");
    const was = box.querySelector("details.card-role");
    if (was) cardOpen = was.open;
    const card = view.card && view.card[LANG];
    const role = card ? el("details", {class: "card-role", id: "role-card", open: cardOpen === null ? view.round === 0 : cardOpen},
      el("summary", {text: T("classroom.card.title")}),
      el("p", {}, el("strong", {text: T("classroom.card.mandate") + ": "}), card.mandate),
      el("p", {}, el("strong", {text: T("classroom.card.knows") + ": "}), card.knows),
      el("p", {}, el("strong", {text: T("classroom.card.dilemma") + ": "}), card.dilemma)) : null;
    box.replaceChildren(
      el("h1", {id: "you-lead", text: T("classroom.you_lead", {org: orgName(seat.org_name)})}),
      el("div", {class: "muted", id: "who", text: T("classroom.joined_as", {nickname: view.nickname}) + " \u00b7 " + T("classroom.group", {n: seat.group + 1})}),
      role);
  }

  function renderChoice() {
    const box = document.getElementById("choice");
    const key = [view.round, view.phase, view.seat.group, view.seat.org].join("/");
    if (key !== formKey) {
      formKey = key;
      draft = JSON.parse(JSON.stringify(view.choice));
      if (view.phase === "debrief") { box.hidden = true; return; }
      box.hidden = false;
      const styles = el("div", {class: "styles", role: "radiogroup"});
      for (const s of view.styles) {
        const input = el("input", {type: "radio", name: "style", value: s, checked: draft.style === s});
        const label = el("label", {class: draft.style === s ? "on" : ""}, input,
                         el("span", {class: "swatch", style: null}), el("span", {text: styleName(s)}));
        label.querySelector(".swatch").style.background = STYLE_COLOURS[s] || "#888";
        input.addEventListener("change", () => {
          draft.style = s;
          styles.querySelectorAll("label").forEach((l) => l.classList.toggle("on", l.contains(input)));
        });
        styles.append(label);
      }
      const fields = el("div", {class: "fields"});
      for (const f of view.fields) {
        const select = el("select", {name: f, id: "field-" + f});
        select.append(el("option", {value: "", text: T("classroom.as_style")}));
        for (const level of view.levels) {
          select.append(el("option", {value: String(level), text: T("classroom.levels." + LEVEL_KEYS[String(level)]),
                                      selected: draft.behaviour[f] === level}));
        }
        select.addEventListener("change", () => {
          if (select.value === "") delete draft.behaviour[f]; else draft.behaviour[f] = Number(select.value);
        });
        fields.append(el("label", {for: "field-" + f, text: T("classroom.fields." + f)}), select);
      }
      const tune = el("details", {open: Object.keys(draft.behaviour).length > 0}, el("summary", {text: T("classroom.fine_tune")}), fields);
      box.replaceChildren(
        el("h2", {text: T("classroom.choose_heading")}),
        el("div", {class: "muted", text: T("classroom.style")}), styles, tune,
        el("p", {id: "choice-state", role: "status"}),
        el("div", {class: "actions"}, el("button", {id: "choose", onclick: submit})));
    }
    if (view.phase === "debrief") return;
    const state = document.getElementById("choice-state");
    if (message) { state.className = "error"; state.textContent = message; }
    else if (view.has_chosen) { state.className = "ok"; state.textContent = "\u2713 " + T("classroom.chosen"); }
    else { state.className = "muted"; state.textContent = T("classroom.not_chosen"); }
    document.getElementById("choose").textContent = view.has_chosen ? T("classroom.change") : T("classroom.choose");
  }

  function formChoice() {  // what the form says now (the server checks it: a page can be made to say anything)
    const checked = document.querySelector("#choice input[name=style]:checked");
    const behaviour = {};
    document.querySelectorAll("#choice select").forEach((s) => { if (s.value !== "") behaviour[s.name] = Number(s.value); });
    return {style: checked ? checked.value : draft.style, behaviour};
  }

  async function submit() {
    draft = formChoice();
    const {status, data} = await api("/api/choose", {token, choice: draft});
    if (status === 200) { message = ""; setView(data); }
    else if (status === 400) { message = data.error || ("HTTP " + status); renderChoice(); }
  }

  function delta(now, before) {
    const d = now - before;
    const text = (d >= 0 ? "+" : "\u2212") + num(Math.abs(d) * 100, 0) + (LANG === "nl" ? " pp" : " pts");
    return el("div", {class: "delta " + (d > 0.0005 ? "up" : d < -0.0005 ? "down" : "muted"),
                      text: T("classroom.since_last", {change: text})});
  }

  function renderResults() {
    const key = [view.round, view.phase, view.seat.group, view.seat.org, view.version > 0].join("/");
    if (key === resultsKey) return;
    resultsKey = key;
    const box = document.getElementById("results");
    const number = (id, label, value, before) => el("div", {class: "number", id},
      el("div", {class: "value", text: pct(value)}), el("div", {class: "label", text: label}),
      before === null ? null : delta(value, before));
    const children = [el("h2", {id: "results-heading", text: T(view.phase === "debrief" ? "classroom.results_final" : "classroom.results_heading")}),
      el("div", {class: "numbers"},
        number("own", T("classroom.own_performance"), view.own, view.round ? view.own_before : null),
        number("pv", T("classroom.public_value"), view.public_value, view.round ? view.public_value_before : null),
        number("energy", T("classroom.energy"), view.energy, null),
        number("trust", T("classroom.trust"), view.trust, null)),
      el("img", {class: "chart", id: "chart", alt: T("classroom.chart_public_value"), src: view.chart + "&lang=" + LANG, width: "360", height: "250"})];
    if (view.sentence) children.splice(1, 0, el("p", {class: "sentence", id: "sentence", text: view.sentence[LANG]}));
    if (view.round > 0) children.push(window.govsim.mechanisms(view.mechanisms, view.org_names), window.govsim.trustTable(view.mechanisms, view.org_names));
    if (view.ranking) {
      const list = el("ol", {class: "plain ranking", id: "ranking"});
      for (const r of view.ranking) {
        const label = r.reference ? T("classroom.reference", {style: styleName(r.reference).toLowerCase()}) : T("classroom.group_title", {n: r.group + 1});
        const mine = r.group === view.seat.group;
        list.append(el("li", {}, el("span", {text: (mine ? "\u25b6 " : "") + label}), el("strong", {text: pct(r.public_value)})));
      }
      children.push(el("h2", {text: T("classroom.ranking")}), list);
    }
    box.replaceChildren(...children);
  }

  function renderPartners() {
    const list = el("ul", {class: "plain"});
    for (const p of view.partners) {
      const who = p.nickname === null ? T("classroom.nobody") : p.nickname;
      const state = p.nickname === null || view.phase === "debrief" ? "" : (p.chosen ? "\u2713 " + T("classroom.partner_chose") : T("classroom.partner_waiting"));
      const item = el("li", {}, el("strong", {text: orgName(p.org_name)}), " \u00b7 ", el("span", {text: who}),
                      state ? el("span", {class: "muted", text: " \u00b7 " + state}) : null);
      if (p.choice) {
        const tuned = Object.entries(p.choice.behaviour).map(([f, v]) => T("classroom.fields." + f) + ": " + T("classroom.levels." + LEVEL_KEYS[String(v)]));
        item.append(el("div", {class: "muted", text: styleName(p.choice.style) + (tuned.length ? " (" + tuned.join(", ") + ")" : "")}));
      }
      list.append(item);
    }
    document.getElementById("partners").replaceChildren(el("h2", {text: T("classroom.partners")}), list);
  }

  function setView(data) {
    view = data; version = data.version; received = Date.now();
    if (!view.seat) { token = null; forget(); message = T("classroom.refused_join.unknown"); renderJoin(); return; }
    shell(); renderStatus(); renderSeat(); renderChoice(); renderResults(); renderPartners();
    document.body.dataset.version = String(version);
    document.body.dataset.round = String(view.round);
  }

  async function leave() {
    await api("/api/leave", {token});
    forget(); token = null; view = null; formKey = ""; resultsKey = ""; message = "";
    renderJoin();
  }

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      while (token) {
        let result;
        try { result = await api("/api/student?token=" + encodeURIComponent(token) + "&v=" + version); }
        catch (e) { await new Promise((r) => setTimeout(r, 2000)); continue; }
        if (result.status === 404) {
          forget(); token = null; view = null; formKey = ""; resultsKey = "";
          message = T("classroom.refused_join.unknown"); renderJoin(); break;
        }
        if (result.status !== 200) { await new Promise((r) => setTimeout(r, 2000)); continue; }
        if (result.data.version !== version || !view) setView(result.data);
      }
    } finally { polling = false; }
  }

  // The page's last word when it closes: its seat stops counting at once (and is kept for its return).
  window.addEventListener("pagehide", () => {
    if (token) navigator.sendBeacon("/api/away", new Blob([JSON.stringify({token})], {type: "text/plain"}));
  });

  async function resume(stored) {  // a new tab: the seat this browser held, unless another tab holds it now
    const result = await api("/api/student?resume=1&v=-1&token=" + encodeURIComponent(stored));
    if (result.status === 200) { token = stored; keep(token); setView(result.data); poll(); return; }
    if (result.status === 404) forget();
    renderJoin();
  }

  setInterval(() => { if (view && view.seat) renderStatus(); }, 1000);
  let stored = null;
  try { stored = localStorage.getItem(KEY); } catch (e) { stored = null; }
  if (token) { shell(); poll(); } else if (stored) resume(stored); else renderJoin();
})();
