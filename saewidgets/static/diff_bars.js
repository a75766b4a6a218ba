// DiffBars: one row per latent, a signed bar for (target share - largest other share) of documents it
// fires in, the permutation null as a shaded band ±null behind the bars. Rows beyond the band are solid,
// rows inside it faded. Click a row (or focus it, Enter) to set `selected_latent`; arrows move between rows.
//
// Uses from common.js: h, listen, save, arrays, num, ticks, startView;
// from datacentric.js: dcPct, dcPp, dcLatentName, dcStatus.

/**
 * The synced traits (saewidgets/widgets/diff_bars.py); n latents shown.
 * @typedef {Object} Model
 * @property {number | null} selected_latent    the row clicked last; set here
 * @property {string[]} corpus_names            the target corpus first, then the others
 * @property {number} null                      half-width of the permutation null band (a share)
 * @property {string} note
 * @property {string} title
 * @property {ArrayTrait} _latents              [n] int32 latent ids, by difference (largest first)
 * @property {ArrayTrait} _difference           [n] float32 target share - largest other share
 * @property {ArrayTrait} _target               [n] float32 share of target documents the latent fires in
 * @property {ArrayTrait} _others               [n] float32 largest share among the other corpora
 * @property {Object<string, string>} _labels   "latent id" -> label
 * @property {number} _d_sae
 * @property {number} _n_significant            latents above the band among all d_sae, not only those shown
 * @property {boolean} [_offline]
 */

const DB_KEYS = ["Enter", " ", "Escape", "ArrowUp", "ArrowDown", "Home", "End"];

const names = (model) => model.get("corpus_names") || ["target", "other"];
const others = (model) => names(model).slice(1).join(" / ");
const band = (model) => dcPp(Number(model.get("null")) || 0).replace("+", "");

function buildView(model) {
  const v = { model, arr: arrays(model), nodes: new Map() }; // nodes: latent id -> row
  v.title = h("div", { class: "saew-dc-title" });
  v.legend = h("div", { class: "saew-row saew-db-legend saew-note" });
  v.head = h("div", { class: "saew-db-grid saew-db-head" });
  const label = "latents by difference in document share";
  v.rows = h("div", { class: "saew-db-rows", role: "listbox", "aria-label": label });
  const axisText = h("div", { text: "difference in share of documents (percentage points)" });
  const axis = h("div", { class: "saew-db-grid saew-db-axis saew-note" }, h("div"), axisText, h("div"));
  v.note = h("div", { class: "saew-note saew-dc-note saew-db-note" });
  v.status = h("div", { class: "saew-row saew-dc-status saew-db-status", role: "status" });
  const parts = [v.title, v.legend, v.head, v.rows, axis, v.note, v.status];
  v.root = h("div", { class: "saew-widget saew-dc saew-db" }, ...parts);
  return v;
}

/** Row i in words (its title and aria-label). */
function describe(v, i) {
  const { model, arr } = v;
  const [id, d] = [arr("_latents").values[i], arr("_difference").values[i]];
  const where = Math.abs(d) > model.get("null") ? "beyond" : "inside";
  const [target, other] = [dcPct(arr("_target").values[i]), dcPct(arr("_others").values[i])];
  return (
    `latent ${dcLatentName(model.get("_labels"), id).slice(1)}: fires in ${target} of ${names(model)[0]} ` +
    `documents and ${other} of ${others(model)}; difference ${dcPp(d)}, ` +
    `${where} the ±${band(model)} null band`
  );
}

/** The legend and the tick row above the bars; returns pos(share) -> percent across the bar cell. */
function drawScale(v) {
  const { model, arr } = v;
  const nul = Number(model.get("null")) || 0;
  let m = nul;
  for (const d of arr("_difference").values) m = Math.max(m, Math.abs(d));
  m = (m || 0.01) * 1.08;
  const pos = (x) => 50 + (50 * x) / m;
  v.legend.replaceChildren(
    h("span", { class: "saew-db-key saew-db-key-pos" }),
    h("span", { text: `more in ${names(model)[0]}` }),
    h("span", { class: "saew-db-key saew-db-key-neg" }),
    h("span", { text: `more in ${others(model)}` }),
    h("span", { class: "saew-db-key saew-db-key-band" }),
    h("span", { text: `permutation null ±${band(model)}: faded bars are within noise` }),
  );
  const tickRow = h("div", { class: "saew-db-ticks" });
  for (const { value } of ticks(-m, m)) {
    if (Math.abs(value) > m) continue;
    const text = value === 0 ? "0" : num(100 * value, { signed: true }); // percentage points
    tickRow.append(h("span", { class: "saew-db-tick", style: `left:${pos(value).toFixed(2)}%`, text }));
  }
  const shares = `${names(model)[0]} vs ${others(model)}`;
  v.head.replaceChildren(
    h("div", { class: "saew-muted", text: "latent" }),
    tickRow,
    h("div", { class: "saew-muted saew-db-shares", text: shares }),
  );
  return pos;
}

/** Row i: the latent's name, its bar over the null band, and its two shares. */
function drawRow(v, i, pos) {
  const { model, arr } = v;
  const [id, d, nul] = [
    arr("_latents").values[i],
    arr("_difference").values[i],
    Number(model.get("null")) || 0,
  ];
  const span = (from, to) => `left:${pos(from).toFixed(2)}%;width:${(pos(to) - pos(from)).toFixed(2)}%`;
  const barWidth = Math.max(Math.abs(pos(d) - pos(0)), 0.3).toFixed(2);
  const barStyle = `left:${Math.min(pos(0), pos(d)).toFixed(2)}%;width:${barWidth}%`;
  const cell = h(
    "div",
    { class: "saew-db-cell" },
    h("div", { class: "saew-db-band", style: span(-nul, nul) }),
    h("div", { class: "saew-db-zero", style: `left:${pos(0).toFixed(2)}%` }),
    h("div", { class: `saew-db-bar ${d >= 0 ? "saew-db-pos" : "saew-db-neg"}`, style: barStyle }),
  );
  const label = (model.get("_labels") || {})[String(id)];
  const name = h("div", { class: "saew-db-name" }, h("span", { class: "saew-db-id", text: `#${id}` }));
  if (label) name.append(h("span", { class: "saew-db-label", text: ` ${label}` }));
  const shares = `${dcPct(arr("_target").values[i])} vs ${dcPct(arr("_others").values[i])}`;
  const kind = Math.abs(d) > nul ? "saew-db-sig" : "saew-db-ns";
  const attrs = { role: "option", tabindex: "-1", "data-latent": String(id), title: describe(v, i) };
  const row = h("div", { class: `saew-db-grid saew-db-row ${kind}`, ...attrs, "aria-label": describe(v, i) });
  row.append(name, cell, h("div", { class: "saew-db-shares", text: shares }));
  v.nodes.set(id, row);
  return row;
}

function draw(v) {
  const { model, arr } = v;
  v.title.textContent = model.get("title") || "";
  v.title.hidden = !model.get("title");
  const pos = drawScale(v);
  const ids = arr("_latents").values;
  v.nodes = new Map();
  v.rows.replaceChildren(...Array.from(ids, (_, i) => drawRow(v, i, pos)));
  const above = `${model.get("_n_significant")} of all ${model.get("_d_sae")} are above the band`;
  const shown = `${ids.length} latents shown; ${above} (more in ${names(model)[0]}).`;
  v.note.textContent = [shown, model.get("note") || ""].join(" ").trim();
  markSelected(v);
}

function markSelected(v) {
  const { model, arr, nodes } = v;
  const sel = model.get("selected_latent");
  for (const [id, node] of nodes) {
    node.classList.toggle("saew-db-selected", id === sel);
    node.setAttribute("aria-selected", id === sel ? "true" : "false");
  }
  v.root.dataset.selected = String(sel ?? "");
  const ids = Array.from(arr("_latents").values);
  const i = ids.indexOf(sel);
  const name = dcLatentName(model.get("_labels"), sel);
  const [target, other, d] = ["_target", "_others", "_difference"].map((key) => arr(key).values[i]);
  let text = "";
  if (i >= 0) text = `selected: ${name} · ${dcPct(target)} vs ${dcPct(other)} (${dcPp(d)})`;
  else if (sel !== null && sel !== undefined) text = `selected: ${name}`;
  const hint = "click a bar (or focus it and press Enter) to select that latent";
  dcStatus(
    model,
    v.status,
    text,
    "widget.selected_latent",
    () => save(model, { selected_latent: null }),
    hint,
  );
  focusable(v, nodes.has(sel) ? sel : ids[0]);
}

/** Roving tabindex: only the row of latent `id` is reached by Tab. */
function focusable(v, id) {
  for (const [j, node] of v.nodes) node.setAttribute("tabindex", j === id ? "0" : "-1");
}

/** Enter / space selects the row's latent, Escape clears it; arrows, Home and End move between rows. */
function onKey(v, id, key) {
  if (key === "Enter" || key === " ") return save(v.model, { selected_latent: id });
  if (key === "Escape") return save(v.model, { selected_latent: null });
  const ids = Array.from(v.nodes.keys());
  const at = ids.indexOf(id);
  const next = { ArrowDown: ids[at + 1], ArrowUp: ids[at - 1], Home: ids[0], End: ids.at(-1) }[key] ?? id;
  focusable(v, next);
  v.nodes.get(next).focus();
}

export default {
  render({ model, el }) {
    startView(model, el);
    const v = buildView(model);
    el.append(v.root);
    // the rows are redrawn with the data: their events are handled here, once, for whichever row they reach
    const rowOf = (e) => e.target.closest && e.target.closest(".saew-db-row");
    v.rows.addEventListener("click", (e) => {
      const row = rowOf(e);
      if (!row) return;
      save(model, { selected_latent: Number(row.dataset.latent) });
      row.focus();
    });
    v.rows.addEventListener("keydown", (e) => {
      const row = rowOf(e);
      if (!row || !DB_KEYS.includes(e.key)) return;
      e.preventDefault();
      onKey(v, Number(row.dataset.latent), e.key);
    });
    const traits = ["_latents", "_difference", "null", "_labels", "corpus_names", "title", "note"];
    const events = traits.map((name) => `change:${name}`);
    const stops = [
      listen(model, events, () => draw(v)),
      listen(model, ["change:selected_latent"], () => markSelected(v)),
    ];
    draw(v);
    return () => stops.forEach((stop) => stop());
  },
};
