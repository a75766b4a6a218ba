// Helpers shared by the data-centric widgets (DiffBars, NPMIScatter, ClusterBrowser, RetrievalBox).
// Concatenated after common.js and before the widget's own file. Text only ever goes in via textContent.

/** A share in [0, 1] as a percentage: 31%, 4.2%, 0.3%. */
function dcPct(x) {
  if (!Number.isFinite(x)) return "–";
  const p = 100 * x;
  return `${Math.abs(p) >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** A difference of shares in percentage points, signed: +12.5 pp, −3.0 pp. */
function dcPp(x) {
  if (!Number.isFinite(x)) return "–";
  const p = 100 * x;
  return `${p > 0 ? "+" : p < 0 ? "−" : ""}${Math.abs(p).toFixed(1)} pp`;
}

/** A short number for ticks and tables: 0.83, −0.12, 12. */
function dcNum(v, digits = 2) {
  if (!Number.isFinite(v)) return "–";
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits);
  return s.replace("-", "−");
}

/** "#12" or "#12 tone=sad": a latent id with its label, if the widget has one. */
function dcLatentName(labels, id) {
  const label = labels && labels[String(id)];
  return label ? `#${id} ${label}` : `#${id}`;
}

/** A small button naming a latent; clicking it selects the latent (and does not click what holds it). */
function dcLatentButton(labels, id, onPick, extraClass = "") {
  return h("button", { class: `saew-dc-latent ${extraClass}`.trim(), "data-latent": String(id), type: "button",
    title: `show latent ${id}`, text: dcLatentName(labels, id),
    onclick: (e) => { e.stopPropagation(); onPick(id); } });
}

/** The status line under a widget: what is selected, a clear button, and where to read it in Python. */
function dcStatus(model, status, text, pythonName, onClear, hint) {
  status.replaceChildren();
  if (text) {
    status.append(h("span", { class: "saew-dc-selected-text", text }),
      h("button", { class: "saew-dc-clear", type: "button", text: "clear", onclick: onClear }));
    if (!model.get("_offline")) status.append(h("span", { class: "saew-note", text: `→ ${pythonName} in Python` }));
  } else {
    status.append(h("span", { class: "saew-muted", text: hint }));
  }
}

/** Decode an Array trait, caching the result per raw value. */
function dcArrays(model) {
  const cache = {};
  return (name) => {
    const raw = model.get(name);
    if (!cache[name] || cache[name].raw !== raw) cache[name] = { raw, value: typed(raw) };
    return cache[name].value;
  };
}
