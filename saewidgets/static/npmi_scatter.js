// NPMIScatter: one SVG circle per latent pair, x = decoder cosine similarity, y = NPMI (the paper's Fig. 3).
// Drag a rectangle to brush pairs into `selected_pairs` (listed in a table); a click without a drag picks
// the nearest point: that pair, and its first latent as `selected_latent`. Hover shows the pair. From the
// keyboard: focus the plot, arrows move a cursor between points, Enter or space selects, Escape clears.
//
// Uses from common.js: h, svg, listen, save, arrays, num, ticks, startView;
// from datacentric.js: dcLatentName, dcLatentButton, dcStatus.

/**
 * The synced traits (saewidgets/widgets/npmi_scatter.py); p pairs shown.
 * @typedef {Object} Model
 * @property {number[][]} selected_pairs        [[x, y], ...] latent ids of the pairs brushed or clicked
 * @property {number | null} selected_latent    the pair clicked last's first latent, or one from the table
 * @property {number | null} npmi_line          the "non-obvious" region: NPMI above this ...
 * @property {number | null} similarity_line    ... and cosine similarity below this
 * @property {string} title
 * @property {ArrayTrait} _x                    [p] int32 first latent of each pair
 * @property {ArrayTrait} _y                    [p] int32 second latent
 * @property {ArrayTrait} _npmi                 [p] float32
 * @property {ArrayTrait} _sim                  [p] float32 decoder-direction cosine similarity
 * @property {ArrayTrait} _co                   [p] int32 documents where both fire
 * @property {Object<string, string>} _labels   "latent id" -> label
 * @property {number} _d_sae                    0: unknown
 * @property {number} _n_pairs                  pairs before the cap (the highest NPMI are shown)
 * @property {boolean} [_offline]
 */

const NS_W = 640;
const NS_H = 420;
const NS_M = { left: 56, right: 14, top: 12, bottom: 44 };
const NS_PW = NS_W - NS_M.left - NS_M.right;
const NS_PH = NS_H - NS_M.top - NS_M.bottom;
const NS_TABLE_ROWS = 50;
const NS_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "Enter", " ", "Escape"];

const isSet = (x) => x !== null && x !== undefined;

/** [lo, hi] covering values, the extra values that are set, and [lo0, hi0]; padded 5% each side. */
function domain(values, extra, lo0, hi0) {
  let [lo, hi] = [lo0, hi0];
  for (const x of [...values, ...extra.filter(isSet)]) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
  const pad = (hi - lo) * 0.05 || 0.1;
  return [lo - pad, hi + pad];
}

function buildView(model) {
  const v = { model, arr: arrays(model), circles: [], px: new Float32Array(0), py: new Float32Array(0) };
  v.cursor = -1; // the point the keyboard is on
  v.title = h("div", { class: "saew-dc-title" });
  const label =
    "latent pairs: decoder cosine similarity against NPMI; drag to select pairs, " +
    "or arrow keys to move between points (left, right: similarity; up, down: NPMI) and Enter to select";
  const size = { viewBox: `0 0 ${NS_W} ${NS_H}`, tabindex: "0", role: "group", "aria-label": label };
  v.plot = svg("svg", { class: "saew-dc-svg saew-ns-svg", ...size });
  v.tip = h("div", { class: "saew-dc-tip saew-ns-tip", role: "tooltip" });
  v.tip.hidden = true;
  const plotBox = h("div", { class: "saew-ns-plot" }, v.plot, v.tip);
  v.info = h("div", { class: "saew-note saew-ns-info" });
  v.status = h("div", { class: "saew-row saew-dc-status saew-ns-status", role: "status" });
  v.table = h("div", { class: "saew-ns-table" });
  v.root = h("div", { class: "saew-widget saew-dc saew-ns" }, v.title, plotBox, v.info, v.status, v.table);
  return v;
}

/** Grid, the "non-obvious" region and its cut lines, frame, ticks and axis labels for the maps X, Y. */
function drawAxes(v, X, Y, [x0, x1], [y0, y1]) {
  const { model } = v;
  const [nl, sl] = [model.get("npmi_line"), model.get("similarity_line")];
  const [left, top, right, bottom] = [NS_M.left, NS_M.top, NS_M.left + NS_PW, NS_M.top + NS_PH];
  const [grid, region, tickText] = [
    svg("g", { class: "saew-ns-grid" }),
    svg("g", { class: "saew-ns-region" }),
    svg("g"),
  ];
  const tick = (x, y, anchor, text) =>
    svg("text", { class: "saew-dc-tick", x, y, "text-anchor": anchor, text });
  for (const { value, label } of ticks(x0, x1, { count: 7 })) {
    grid.append(svg("line", { x1: X(value), x2: X(value), y1: top, y2: bottom }));
    tickText.append(tick(X(value), bottom + 16, "middle", label));
  }
  for (const { value, label } of ticks(y0, y1, { count: 6 })) {
    grid.append(svg("line", { x1: left, x2: right, y1: Y(value), y2: Y(value) }));
    tickText.append(tick(left - 6, Y(value) + 4, "end", label));
  }
  if (isSet(nl) && isSet(sl)) {
    const [width, height] = [Math.max(0, X(sl) - left), Math.max(0, Y(nl) - top)];
    const text = `non-obvious: NPMI > ${nl}, similarity < ${sl}`;
    region.append(
      svg("rect", { class: "saew-ns-zone", x: left, y: top, width, height }),
      svg("text", { class: "saew-ns-zone-label", x: left + 6, y: top + 14, text }),
    );
  }
  if (isSet(nl))
    region.append(svg("line", { class: "saew-ns-cut", x1: left, x2: right, y1: Y(nl), y2: Y(nl) }));
  if (isSet(sl))
    region.append(svg("line", { class: "saew-ns-cut", x1: X(sl), x2: X(sl), y1: top, y2: bottom }));
  const frame = svg("rect", { class: "saew-ns-frame", x: left, y: top, width: NS_PW, height: NS_PH });
  const xText = "decoder-direction cosine similarity";
  const xLabel = svg("text", { x: left + NS_PW / 2, y: NS_H - 6, "text-anchor": "middle", text: xText });
  const yText = "NPMI (fire in the same documents)";
  const yTurn = `translate(14 ${top + NS_PH / 2}) rotate(-90)`;
  const yLabel = svg("text", { transform: yTurn, "text-anchor": "middle", text: yText });
  v.plot.append(grid, region, frame, tickText, xLabel, yLabel);
}

function draw(v) {
  const { model, arr } = v;
  v.title.textContent = model.get("title") || "";
  v.title.hidden = !model.get("title");
  const [sim, npmi] = [arr("_sim").values, arr("_npmi").values];
  const xr = domain(sim, [model.get("similarity_line")], 0, 0);
  const yr = domain(npmi, [model.get("npmi_line")], 0, 1);
  const X = (x) => NS_M.left + ((x - xr[0]) / (xr[1] - xr[0])) * NS_PW;
  const Y = (y) => NS_M.top + (1 - (y - yr[0]) / (yr[1] - yr[0])) * NS_PH;
  v.plot.replaceChildren();
  drawAxes(v, X, Y, xr, yr);
  const n = sim.length;
  const points = svg("g", { class: "saew-ns-points" });
  [v.px, v.py, v.circles] = [new Float32Array(n), new Float32Array(n), []];
  for (let i = 0; i < n; i++) {
    [v.px[i], v.py[i]] = [X(sim[i]), Y(npmi[i])];
    const attrs = { cx: v.px[i].toFixed(1), cy: v.py[i].toFixed(1), r: 3.2, "data-i": i };
    v.circles.push(svg("circle", { class: "saew-ns-pt", ...attrs }));
  }
  points.append(...v.circles);
  v.brush = svg("rect", { class: "saew-ns-brush", visibility: "hidden" });
  const ring = { r: 7, fill: "none", stroke: "currentColor", "stroke-width": 1.5, visibility: "hidden" };
  v.ring = svg("circle", { class: "saew-ns-cursor", ...ring });
  v.plot.append(points, v.ring, v.brush);
  if (v.cursor >= n) v.cursor = -1;
  const total = model.get("_n_pairs");
  const of = total > n ? ` of ${total} (the highest NPMI)` : "";
  v.info.textContent = `${n} pair(s)${of}. Drag a rectangle to select pairs; click a point for one pair.`;
  markSelected(v);
}

function markSelected(v) {
  const { model, arr } = v;
  const [xs, ys] = [arr("_x").values, arr("_y").values];
  const index = new Map(Array.from(xs, (x, i) => [`${x},${ys[i]}`, i]));
  const on = new Set();
  for (const key of (model.get("selected_pairs") || []).map(([a, b]) => `${a},${b}`)) {
    if (index.has(key)) on.add(index.get(key));
  }
  v.circles.forEach((c, i) => c.classList.toggle("saew-ns-on", on.has(i)));
  const layer = v.plot.querySelector(".saew-ns-points");
  for (const i of on) layer.append(v.circles[i]); // selected points on top
  v.root.dataset.nSelected = String(on.size);
  const latent = model.get("selected_latent");
  v.root.dataset.selectedLatent = String(latent ?? "");
  const parts = [on.size ? `${on.size} pair(s) selected` : ""];
  if (isSet(latent)) parts.push(`latent ${dcLatentName(model.get("_labels"), latent)}`);
  const clear = () => save(model, { selected_pairs: [], selected_latent: null });
  const hint = "drag a rectangle to select pairs, or click a point";
  const text = parts.filter(Boolean).join(" · ");
  dcStatus(model, v.status, text, "widget.selected_pairs / selected_latent", clear, hint);
  drawTable(
    v,
    [...on].sort((a, b) => arr("_npmi").values[b] - arr("_npmi").values[a]),
  );
}

/** The selected pairs (indices idx), highest NPMI first, at most NS_TABLE_ROWS of them. */
function drawTable(v, idx) {
  const { model, arr, table } = v;
  const f = document.activeElement; // a latent pressed in the table: the keyboard stays on it
  const was =
    table.contains(f) && `tr[data-i="${f.closest("tr")?.dataset.i}"] [data-latent="${f.dataset.latent}"]`;
  table.replaceChildren();
  if (!idx.length) return;
  const [xs, ys, npmi, sim, co] = ["_x", "_y", "_npmi", "_sim", "_co"].map((key) => arr(key).values);
  const latent = model.get("selected_latent");
  const pick = (id) => save(model, { selected_latent: id });
  const button = (id) => dcLatentButton(model.get("_labels"), id, pick, id === latent ? "saew-dc-on" : "");
  const cell = (id) => h("td", {}, button(id));
  const rows = idx.slice(0, NS_TABLE_ROWS).map((i) => {
    const values = [num(npmi[i], { fixed: 2 }), num(sim[i], { fixed: 2 }), String(co[i])];
    return h(
      "tr",
      { "data-i": String(i) },
      cell(xs[i]),
      cell(ys[i]),
      ...values.map((text) => h("td", { text })),
    );
  });
  const columns = ["latent", "with latent", "NPMI", "cosine", "documents together"];
  const head = h("thead", {}, h("tr", {}, ...columns.map((text) => h("th", { text }))));
  table.append(h("table", { class: "saew-dc-table" }, head, h("tbody", {}, ...rows)));
  const more = `… and ${idx.length - NS_TABLE_ROWS} more (all in widget.selected_pairs)`;
  if (idx.length > NS_TABLE_ROWS) table.append(h("div", { class: "saew-note", text: more }));
  if (was) table.querySelector(was)?.focus();
}

/** A pointer event's position in viewBox coordinates. */
function local(v, e) {
  const r = v.plot.getBoundingClientRect();
  return [((e.clientX - r.left) / r.width) * NS_W, ((e.clientY - r.top) / r.height) * NS_H];
}

/** The point nearest (x, y) within `radius` (viewBox units), or -1. */
function nearest(v, x, y, radius) {
  let [best, bd] = [-1, radius * radius];
  for (let i = 0; i < v.px.length; i++) {
    const d = (v.px[i] - x) ** 2 + (v.py[i] - y) ** 2;
    if (d <= bd) [best, bd] = [i, d];
  }
  return best;
}

function showTip(v, i) {
  const { model, arr, tip } = v;
  tip.hidden = i < 0;
  if (i < 0) return;
  const name = (key) => dcLatentName(model.get("_labels"), arr(key).values[i]);
  const [npmi, sim] = [num(arr("_npmi").values[i], { fixed: 2 }), num(arr("_sim").values[i], { fixed: 2 })];
  tip.replaceChildren(
    h("div", { class: "saew-ns-tip-name", text: `${name("_x")} & ${name("_y")}` }),
    h("div", { text: `NPMI ${npmi} · cosine ${sim}` }),
    h("div", { class: "saew-muted", text: `together in ${arr("_co").values[i]} document(s)` }),
  );
  const r = v.plot.getBoundingClientRect();
  const s = r.width / NS_W;
  const left = v.px[i] * s > r.width / 2 ? v.px[i] * s - tip.offsetWidth - 12 : v.px[i] * s + 12;
  tip.style.left = `${Math.max(0, left)}px`;
  tip.style.top = `${Math.max(0, v.py[i] * s - tip.offsetHeight / 2)}px`;
}

/** Pair i, and its first latent. */
function pickPair(v, i) {
  const [xs, ys] = [v.arr("_x").values, v.arr("_y").values];
  save(v.model, { selected_pairs: [[xs[i], ys[i]]], selected_latent: xs[i] });
}

/** Keys on the focused plot: arrows move the cursor (left / right by similarity, up / down by NPMI: the
 * pairs come highest NPMI first), Home / End to the lowest / highest similarity; Enter or space selects the
 * pair under the cursor, Escape clears the selection. */
function onKey(v, e) {
  const n = v.px.length;
  if (!NS_KEYS.includes(e.key) || !n) return;
  e.preventDefault();
  if (e.key === "Escape") return save(v.model, { selected_pairs: [], selected_latent: null });
  if (v.cursor >= 0 && (e.key === "Enter" || e.key === " ")) return pickPair(v, v.cursor);
  const byX = Array.from(v.px.keys()).sort((a, b) => v.px[a] - v.px[b] || a - b);
  const at = byX.indexOf(v.cursor);
  const step = {
    ArrowLeft: byX[at - 1],
    ArrowRight: byX[at + 1],
    ArrowUp: v.cursor - 1,
    ArrowDown: v.cursor + 1,
  };
  const next = v.cursor < 0 ? 0 : { ...step, Home: byX[0], End: byX.at(-1) }[e.key];
  if (!(next >= 0 && next < n)) return;
  v.cursor = next;
  for (const [key, value] of [
    ["cx", v.px[next]],
    ["cy", v.py[next]],
    ["visibility", "visible"],
  ])
    v.ring.setAttribute(key, value);
  showTip(v, next);
}

/** A drag's end: a click (under 4 units) picks the nearest pair or clears; a drag brushes a rectangle. */
function brushed(v, d) {
  const [xs, ys] = [v.arr("_x").values, v.arr("_y").values];
  if (Math.abs(d.x1 - d.x) < 4 && Math.abs(d.y1 - d.y) < 4) {
    const i = nearest(v, d.x, d.y, 8);
    return i < 0 ? save(v.model, { selected_pairs: [] }) : pickPair(v, i);
  }
  const [lx, hx, ly, hy] = [
    Math.min(d.x, d.x1),
    Math.max(d.x, d.x1),
    Math.min(d.y, d.y1),
    Math.max(d.y, d.y1),
  ];
  const picked = [];
  for (let i = 0; i < v.px.length; i++) {
    if (v.px[i] >= lx && v.px[i] <= hx && v.py[i] >= ly && v.py[i] <= hy) picked.push([xs[i], ys[i]]);
  }
  save(v.model, { selected_pairs: picked });
}

export default {
  render({ model, el }) {
    startView(model, el);
    const v = buildView(model);
    el.append(v.root);
    const { plot } = v;
    let drag = null; // {x, y} where the pointer went down, {x1, y1} where it is now (viewBox units)
    plot.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const [x, y] = local(v, e);
      drag = { x, y, x1: x, y1: y };
      plot.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    plot.addEventListener("pointermove", (e) => {
      const [x, y] = local(v, e);
      if (!drag) return showTip(v, nearest(v, x, y, 8));
      Object.assign(drag, { x1: x, y1: y });
      const [width, height] = [Math.abs(x - drag.x), Math.abs(y - drag.y)];
      const box = { x: Math.min(drag.x, x), y: Math.min(drag.y, y), width, height, visibility: "visible" };
      for (const [key, value] of Object.entries(box)) v.brush.setAttribute(key, value);
      v.tip.hidden = true;
    });
    plot.addEventListener("pointerup", (e) => {
      if (!drag) return;
      const d = drag;
      drag = null;
      if (plot.hasPointerCapture(e.pointerId)) plot.releasePointerCapture(e.pointerId);
      v.brush.setAttribute("visibility", "hidden");
      brushed(v, d);
    });
    plot.addEventListener("pointerleave", () => {
      if (!drag) v.tip.hidden = true;
    });
    plot.addEventListener("keydown", (e) => onKey(v, e));
    plot.addEventListener("blur", () => {
      v.ring.setAttribute("visibility", "hidden");
      v.tip.hidden = true;
    });
    const traits = ["_x", "_npmi", "_sim", "npmi_line", "similarity_line", "title", "_labels"];
    const events = traits.map((name) => `change:${name}`);
    const stops = [
      listen(model, events, () => draw(v)),
      listen(model, ["change:selected_pairs", "change:selected_latent"], () => markSelected(v)),
    ];
    draw(v);
    return () => stops.forEach((stop) => stop());
  },
};
