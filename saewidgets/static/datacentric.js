// Helpers shared by the data-centric widgets (DiffBars, NPMIScatter, ClusterBrowser, RetrievalBox).
// Concatenated after common.js and before the widget's own file. Text only ever goes in via textContent.
//
// Uses from common.js: h, num.

/** A share in [0, 1] as a percentage: 31%, 4.2%, 0.3%. */
function dcPct(x) {
  const p = 100 * x;
  return Number.isFinite(p) ? `${num(p, { fixed: Math.abs(p) >= 10 || p === 0 ? 0 : 1 })}%` : "–";
}

/** A difference of shares in percentage points, signed: +12.5 pp, −3.0 pp. */
function dcPp(x) {
  return Number.isFinite(x) ? `${num(100 * x, { fixed: 1, signed: true })} pp` : "–";
}

/** "#12" or "#12 tone=sad": a latent id with its label, if the widget has one. */
function dcLatentName(labels, id) {
  const label = labels && labels[String(id)];
  return label ? `#${id} ${label}` : `#${id}`;
}

/** A small button naming a latent; clicking it selects the latent (and does not click what holds it). */
function dcLatentButton(labels, id, onPick, extraClass = "") {
  return h("button", {
    class: `saew-dc-latent ${extraClass}`.trim(),
    "data-latent": String(id),
    type: "button",
    title: `show latent ${id}`,
    text: dcLatentName(labels, id),
    onclick: (e) => {
      e.stopPropagation();
      onPick(id);
    },
  });
}

/** The status line under a widget: what is selected, a clear button, and where to read it in Python. */
function dcStatus(model, status, text, pythonName, onClear, hint) {
  const cleared = (e) => {
    const widget = status.closest(".saew-widget");
    onClear(); // this button goes: from the keyboard (e.detail 0), focus goes to the widget's tab stop
    if (e.detail === 0) (widget?.querySelector("[tabindex='0']") ?? widget?.querySelector("button"))?.focus();
  };
  status.replaceChildren();
  if (text) {
    status.append(
      h("span", { class: "saew-dc-selected-text", text }),
      h("button", { class: "saew-dc-clear", type: "button", text: "clear", onclick: cleared }),
    );
    if (!model.get("_offline"))
      status.append(h("span", { class: "saew-note", text: `→ ${pythonName} in Python` }));
  } else {
    status.append(h("span", { class: "saew-muted", text: hint }));
  }
}
