// govsim classroom: helpers shared by the student's and the teacher's page (loaded before either).
"use strict";
window.govsim = (function () {
  const TEXTS = JSON.parse(document.getElementById("texts").textContent);

  // A text of the page's language, with {name} placeholders filled (a missing key shows as ⟦key⟧).
  function T(key, values) {
    let text = TEXTS[key];
    if (text === undefined) return "\u27e6" + key + "\u27e7";
    for (const [k, v] of Object.entries(values || {})) text = text.split("{" + k + "}").join(String(v));
    return text;
  }
  // An element with attributes and children; "text" sets textContent, never markup.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  const LANG = TEXTS.lang;
  const pct = (v) => (LANG === "nl" ? Math.round(v * 100) + " %" : Math.round(v * 100) + "%");
  const orgName = (n) => TEXTS["organisations." + n] || n.replace(/_/g, " ");
  const dec = (v) => { const t = Number(v).toFixed(2); return LANG === "nl" ? t.replace(".", ",") : t; };

  // The mechanisms of a group's last round: per organisation its own performance, energy, failure work
  // and forums attended; the forums, adoptions and refusals; trust between the named partners.
  function mechanisms(m, orgs, only) {
    const rows = orgs.map((name, o) => (only === undefined || only === o) ? el("tr", {},
      el("th", {text: orgName(name)}), el("td", {text: pct(m.own[o])}), el("td", {text: pct(m.energy[o])}),
      el("td", {text: pct(m.failure_share[o])}),
      el("td", {text: m.attended[o] + "/" + m.forums + (m.convened[o] ? " (" + m.convened[o] + ")" : "")})) : null);
    const head = el("tr", {}, el("th", {text: T("mechanisms.organisation")}), el("th", {text: T("mechanisms.own")}),
      el("th", {text: T("mechanisms.energy")}), el("th", {title: T("mechanisms.failure_hint"), text: T("mechanisms.failure_work")}),
      el("th", {title: T("mechanisms.forum_hint"), text: T("mechanisms.forum")}));
    return el("div", {class: "mechanisms"},
      el("div", {class: "scroll"}, el("table", {class: "mech"}, el("thead", {}, head), el("tbody", {}, ...rows))),
      el("div", {class: "muted", text: T("mechanisms.forums_held", {forums: m.forums, steps: m.steps, adopted: m.adopted, refused: m.consent_refused})}));
  }

  function trustTable(m, orgs) {
    const short = orgs.map((n) => orgName(n));
    const head = el("tr", {}, el("th", {text: ""}), ...short.map((n) => el("th", {text: n})));
    const rows = short.map((n, i) => el("tr", {}, el("th", {text: n}), ...m.trust[i].map((v, j) => {
      const td = el("td", {text: i === j ? "" : dec(v)});
      if (i !== j) td.className = v < 0.4 ? "low" : v >= 0.6 ? "high" : "";
      return td;
    })));
    return el("details", {class: "trust"}, el("summary", {text: T("mechanisms.trust")}),
      el("div", {class: "scroll"}, el("table", {class: "mech trust"}, el("thead", {}, head), el("tbody", {}, ...rows))));
  }

  return {TEXTS, T, el, mechanisms, trustTable};
})();
