// FrontierPlot: L0 against a fidelity metric as an SVG scatter, one marker shape and colour per architecture
// (from the _palette trait), each architecture's Pareto front (computed in Python, `_fronts`) as a line.
// Hover or focus a point for its details; click it or press Enter to set `selected` (synced to Python).
//
// Uses from common.js: h, svg, listen, save, num, ticks, startView; from markers.js: markerPath, seriesMarker;
// from frontier_plot_select.js (selection, tooltip, keyboard): select, markSelected, showTip, hideTip, move.

/**
 * One SAE, as run_frontier(...).points holds it: these keys, and any numeric metric (fvu, delta_ce,
 * ce_loss_score, ...; null where it was not measured).
 * @typedef {Object} Point
 * @property {string} architecture
 * @property {number} l0            active latents per token
 * @property {string} [name]
 * @property {string} [knob]        the swept setting, e.g. "l1_coefficient", and its [value]
 * @property {number} [d_sae]
 */
/**
 * The synced traits (saewidgets/widgets/frontier_plot.py).
 * @typedef {Object} Model
 * @property {Point[]} points
 * @property {string} y_metric                     the key on the y axis
 * @property {boolean} x_log
 * @property {boolean} y_log
 * @property {number | null} selected              index into points; set here by click or Enter
 * @property {string} title
 * @property {Object<string, number[]>} _fronts    architecture -> indices into points on its front, by L0
 * @property {string[]} _metrics                   the keys a y axis can use
 * @property {Object<string, string>} _labels      key -> axis label
 * @property {Palette} _palette                    colours and markers (common.js, _palette.py)
 * @property {Object<string, Object<string, number[]>>} [_fronts_by_metric]  offline page: _fronts per metric
 * @property {string[]} [_higher_is_better]        metrics where larger is better (the widget and eval.html send it)
 * @property {boolean} [_offline]                  set by the offline page's stand-in model
 */

const FP_W = 640;
const FP_H = 400;
const FP_M = { left: 64, right: 16, top: 14, bottom: 46 };
const FP_KEYS = ["Enter", " ", "Escape", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"];

/** {map(v) -> [0, 1], ticks} for values on a linear or log scale, padded 6% each side (null: none fits). */
function makeScale(values, log) {
  const vs = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (!vs.length) return null;
  let lo = Math.min(...vs);
  let hi = Math.max(...vs);
  if (log) {
    const pad = hi > lo ? Math.log10(hi / lo) * 0.06 : 0.3;
    const [a, b] = [Math.log10(lo) - pad, Math.log10(hi) + pad];
    return { map: (v) => (Math.log10(v) - a) / (b - a), ticks: ticks(10 ** a, 10 ** b, { log }) };
  }
  const pad = hi > lo ? (hi - lo) * 0.06 : Math.abs(hi) * 0.1 || 1;
  [lo, hi] = [lo - pad, hi + pad];
  return { map: (v) => (v - lo) / (hi - lo), ticks: ticks(lo, hi) };
}

// ------------------------------------------------------------------ reading the model

const points = (model) => model.get("points") || [];
const labelOf = (model, key) => (model.get("_labels") || {})[key] || key;
const archList = (model) => [...new Set(points(model).map((p) => p.architecture))];
const yValue = (p, metric) => (p[metric] === null || p[metric] === undefined ? NaN : Number(p[metric]));

const FP_HIGHER_IS_BETTER = ["ce_loss_score", "explained_variance", "cossim", "kl_score", "kl_div_score"];
const higherBetter = (model, key) => (model.get("_higher_is_better") || FP_HIGHER_IS_BETTER).includes(key);

function fronts(model) {
  const byMetric = model.get("_fronts_by_metric"); // offline page only: no kernel to recompute
  const metric = model.get("y_metric");
  if (model.get("_offline") && byMetric && byMetric[metric]) return byMetric[metric];
  return model.get("_fronts") || {};
}

// ------------------------------------------------------------------ drawing

/** The DOM skeleton and the state the draw functions share. */
function buildView(model) {
  const v = { model, nodes: new Map(), order: [] }; // nodes: point index -> <g>; order: by screen x
  v.metricSelect = h("select", { class: "saew-fp-metric", "aria-label": "y-axis metric" });
  v.xLog = h("input", { type: "checkbox", class: "saew-fp-xlog" });
  v.yLog = h("input", { type: "checkbox", class: "saew-fp-ylog" });
  const controls = h(
    "div",
    { class: "saew-row saew-fp-controls" },
    h("label", {}, h("span", { class: "saew-muted", text: "y: " }), v.metricSelect),
    h("label", {}, v.xLog, document.createTextNode(" log x")),
    h("label", {}, v.yLog, document.createTextNode(" log y")),
  );
  v.title = h("div", { class: "saew-fp-title saew-muted" });
  v.plot = svg("svg", {
    class: "saew-fp-svg",
    viewBox: `0 0 ${FP_W} ${FP_H}`,
    role: "group",
    "aria-label": "sparsity-fidelity frontier; arrow keys move between points, Enter selects",
  });
  v.tip = h("div", { class: "saew-fp-tip", role: "tooltip" });
  v.tip.hidden = true;
  v.plotBox = h("div", { class: "saew-fp-plot" }, v.plot, v.tip);
  v.legend = h("div", { class: "saew-row saew-fp-legend" });
  v.notes = h("div", { class: "saew-note saew-fp-notes" });
  v.status = h("div", { class: "saew-row saew-fp-status", "aria-live": "polite" });
  const parts = [controls, v.title, v.plotBox, v.legend, v.notes, v.status];
  v.root = h("div", { class: "saew-widget saew-fp" }, ...parts);
  return v;
}

function drawControls(v) {
  const { model } = v;
  v.xLog.checked = !!model.get("x_log");
  v.yLog.checked = !!model.get("y_log");
  const name = (m) => labelOf(model, m).split(" (")[0];
  const options = (model.get("_metrics") || []).map((m) =>
    h("option", { value: m, text: name(m) === m ? m : `${m} — ${name(m)}` }),
  );
  v.metricSelect.replaceChildren(...options);
  v.metricSelect.value = model.get("y_metric");
  v.title.textContent = model.get("title") || "";
  v.title.hidden = !model.get("title");
}

/** Grid, frame, ticks and axis labels for the scales sx, sy over the plot area pw x ph. */
function drawAxes(v, sx, sy, pw, ph) {
  const { model } = v;
  const metric = model.get("y_metric");
  const [xl, yl] = [!!model.get("x_log"), !!model.get("y_log")];
  const [grid, xTicks, yTicks] = ["grid", "xticks", "yticks"].map((c) => svg("g", { class: `saew-fp-${c}` }));
  const bottom = FP_M.top + ph;
  for (const { value, label } of sx.ticks) {
    const x = FP_M.left + sx.map(value) * pw;
    grid.append(svg("line", { x1: x, x2: x, y1: FP_M.top, y2: bottom }));
    xTicks.append(
      svg("line", { x1: x, x2: x, y1: bottom, y2: bottom + 4 }),
      svg("text", { class: "saew-fp-tick", x, y: bottom + 17, "text-anchor": "middle", text: label }),
    );
  }
  for (const { value, label } of sy.ticks) {
    const y = FP_M.top + (1 - sy.map(value)) * ph;
    grid.append(svg("line", { x1: FP_M.left, x2: FP_M.left + pw, y1: y, y2: y }));
    yTicks.append(
      svg("line", { x1: FP_M.left - 4, x2: FP_M.left, y1: y, y2: y }),
      svg("text", { class: "saew-fp-tick", x: FP_M.left - 7, y: y + 4, "text-anchor": "end", text: label }),
    );
  }
  const frame = svg("rect", { class: "saew-fp-frame", x: FP_M.left, y: FP_M.top, width: pw, height: ph });
  const better = higherBetter(model, metric) ? "higher is better" : "lower is better";
  const xLabel = `${labelOf(model, "l0")}${xl ? ", log scale" : ""}`;
  const yLabel = `${labelOf(model, metric).split(" (")[0]} (${better}${yl ? ", log" : ""})`;
  v.plot.append(
    grid,
    svg("g", { class: "saew-fp-axes" }, frame),
    xTicks,
    yTicks,
    svg("text", {
      class: "saew-fp-xlabel",
      x: FP_M.left + pw / 2,
      y: FP_H - 8,
      "text-anchor": "middle",
      text: xLabel,
    }),
    svg(
      "text",
      {
        class: "saew-fp-ylabel",
        transform: `translate(14 ${FP_M.top + ph / 2}) rotate(-90)`,
        "text-anchor": "middle",
        text: fit(yLabel, ph),
      },
      svg("title", { text: yLabel }),
    ),
  );
}

/** ``text`` shortened with "…" to fit ``px`` pixels at the axis labels' 12 px (about 7 px a character, wide
 * letters included): SVG text has no CSS ellipsis, and a long metric name would run past the plot over the
 * controls. The full text goes in a <title> beside it (a tooltip). */
function fit(text, px) {
  const n = Math.floor(px / 7);
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}

/** Each architecture's front as a line, then one focusable marker per visible point. */
function drawPoints(v, visible, X, Y) {
  const { model } = v;
  const pts = points(model);
  const metric = model.get("y_metric");
  const archs = archList(model);
  const fr = fronts(model);
  const lines = svg("g", { class: "saew-fp-fronts" });
  archs.forEach((arch, k) => {
    const idx = (fr[arch] || []).filter((i) => visible.includes(i));
    const d = idx.map((i, j) => `${j ? "L" : "M"}${X(pts[i].l0).toFixed(1)},${Y(pts[i][metric]).toFixed(1)}`);
    const { style } = seriesMarker(model.get("_palette"), arch, k);
    const attrs = { class: "saew-fp-front saew-series", style, d: d.join(""), "data-arch": arch };
    if (idx.length) lines.append(svg("path", attrs));
  });
  const onFront = new Set(Object.values(fr).flat());
  const marks = svg("g", { class: "saew-fp-points" });
  for (const i of visible) {
    const p = pts[i];
    const { shape, style } = seriesMarker(
      model.get("_palette"),
      p.architecture,
      archs.indexOf(p.architecture),
    );
    const [x, y] = [X(Number(p.l0)), Y(Number(p[metric]))];
    const name = p.name ?? "point " + i;
    const g = svg(
      "g",
      {
        class: `saew-fp-point saew-series${onFront.has(i) ? "" : " saew-fp-dominated"}`,
        style,
        transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`,
        tabindex: "-1",
        role: "button",
        "data-index": i,
        "data-x": x.toFixed(1),
        "data-arch": p.architecture,
        "aria-label": `${name}: L0 ${num(Number(p.l0))}, ${metric} ${num(Number(p[metric]), { digits: 4 })}`,
      },
      svg("circle", { class: "saew-fp-ring", r: 11 }),
      svg("path", { class: "saew-fp-marker", d: markerPath(shape, 6) }),
      svg("circle", { class: "saew-fp-hit", r: 10 }),
    );
    v.nodes.set(i, g);
    marks.append(g);
  }
  v.plot.append(lines, marks);
  const xOf = (i) => Number(v.nodes.get(i).dataset.x);
  v.order = [...visible].sort((a, b) => xOf(a) - xOf(b) || a - b);
}

function drawLegend(v) {
  const { model } = v;
  const items = archList(model).map((arch, k) => {
    const { shape, style } = seriesMarker(model.get("_palette"), arch, k);
    const n = points(model).filter((p) => p.architecture === arch).length;
    const swatch = svg(
      "svg",
      { class: "saew-fp-swatch saew-series", style, viewBox: "-16 -8 32 16", width: 32, height: 16 },
      svg("line", { class: "saew-fp-front", x1: -15, x2: 15, y1: 0, y2: 0 }),
      svg("path", { class: "saew-fp-marker", d: markerPath(shape, 5) }),
    );
    return h("span", { class: "saew-fp-legend-item", "data-arch": arch }, swatch, ` ${arch} (${n})`);
  });
  const key = "line: Pareto front (fewest active latents for the best fidelity); faded: dominated";
  v.legend.replaceChildren(...items, h("span", { class: "saew-note", text: key }));
}

/** Everything but the selection: controls, axes, fronts, points, legend and notes. */
function draw(v) {
  const { model, root } = v;
  const active = document.activeElement;
  const hadFocus = root.contains(active) && active.dataset ? Number(active.dataset.index) : NaN;
  const pts = points(model);
  const metric = model.get("y_metric");
  const [xl, yl] = [!!model.get("x_log"), !!model.get("y_log")];
  drawControls(v);
  const [missing, nonPositive, visible] = [[], [], []];
  pts.forEach((p, i) => {
    const [x, y] = [Number(p.l0), yValue(p, metric)];
    if (!Number.isFinite(x) || !Number.isFinite(y)) missing.push(i);
    else if ((xl && x <= 0) || (yl && y <= 0)) nonPositive.push(i);
    else visible.push(i);
  });
  const [xs, ys] = [visible.map((i) => Number(pts[i].l0)), visible.map((i) => Number(pts[i][metric]))];
  const [sx, sy] = [makeScale(xs, xl), makeScale(ys, yl)];
  const [pw, ph] = [FP_W - FP_M.left - FP_M.right, FP_H - FP_M.top - FP_M.bottom];
  v.plot.replaceChildren();
  v.nodes = new Map();
  v.order = [];
  if (!sx || !sy) {
    const text = `no point has a plottable ${metric}`;
    const at = { x: FP_W / 2, y: FP_H / 2, "text-anchor": "middle" };
    v.plot.append(svg("text", { class: "saew-fp-empty", ...at, text }));
  } else {
    drawAxes(v, sx, sy, pw, ph);
    const X = (x) => FP_M.left + sx.map(Number(x)) * pw;
    const Y = (y) => FP_M.top + (1 - sy.map(Number(y))) * ph;
    drawPoints(v, visible, X, Y);
  }
  drawLegend(v);
  const msgs = [];
  if (missing.length) msgs.push(`${missing.length} point(s) have no ${metric} and are not shown.`);
  const offLog = "with a value ≤ 0 cannot sit on a log axis and are not shown.";
  if (nonPositive.length) msgs.push(`${nonPositive.length} point(s) ${offLog}`);
  v.notes.textContent = msgs.join(" ");
  v.notes.hidden = !msgs.length;
  hideTip(v);
  markSelected(v);
  if (Number.isInteger(hadFocus) && v.nodes.has(hadFocus)) v.nodes.get(hadFocus).focus();
}

// ------------------------------------------------------------------ wiring

export default {
  /** @param {{ model: { get(key: keyof Model): any }, el: HTMLElement }} ctx */
  render({ model, el }) {
    startView(model, el);
    const v = buildView(model);
    el.append(v.root);
    v.metricSelect.addEventListener("change", () => save(model, { y_metric: v.metricSelect.value }));
    v.xLog.addEventListener("change", () => save(model, { x_log: v.xLog.checked }));
    v.yLog.addEventListener("change", () => save(model, { y_log: v.yLog.checked }));
    // the points are redrawn often: their events are handled here, once, for whichever point they reach
    const pointOf = (e) => {
      const g = e.target.closest && e.target.closest(".saew-fp-point");
      return g ? Number(g.dataset.index) : null;
    };
    const tipOn = (e) => (pointOf(e) === null ? null : showTip(v, pointOf(e)));
    const tipOff = (e) => {
      const g = e.target.closest && e.target.closest(".saew-fp-point");
      if (g && !g.contains(e.relatedTarget)) hideTip(v);
    };
    v.plot.addEventListener("mouseover", tipOn);
    v.plotBox.addEventListener("focusin", tipOn); // not on the <svg>: focus listeners make Chrome tab to it
    v.plot.addEventListener("mouseout", tipOff);
    v.plotBox.addEventListener("focusout", tipOff);
    v.plot.addEventListener("click", (e) => {
      const i = pointOf(e);
      if (i === null) return;
      select(v, i);
      v.nodes.get(i).focus();
    });
    v.plot.addEventListener("keydown", (e) => {
      const i = pointOf(e);
      if (i === null || !FP_KEYS.includes(e.key)) return;
      e.preventDefault();
      if (e.key === "Enter" || e.key === " ") select(v, i);
      else if (e.key === "Escape") select(v, null);
      else move(v, i, e.key);
    });
    const traits = ["points", "y_metric", "x_log", "y_log", "_fronts", "_metrics", "title", "_palette"];
    const events = traits.map((name) => `change:${name}`);
    const stops = [
      listen(model, events, () => draw(v)),
      listen(model, ["change:selected"], () => markSelected(v)),
    ];
    draw(v);
    return () => stops.forEach((stop) => stop());
  },
};
