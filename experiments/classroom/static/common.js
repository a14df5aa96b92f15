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
  return {TEXTS, T, el};
})();
