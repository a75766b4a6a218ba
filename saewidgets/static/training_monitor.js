// TrainingMonitor: four small SVG panels (loss on log-y, L0, FVU, dead fraction) over a shared x axis,
// one line per SAE in the palette's colours, a legend, the latest values as text and a status line. Rows
// arrive as one float32 array [n_rows, n_columns]; redraws are coalesced to at most one per ~100 ms and
// one animation frame.
//
// Uses from common.js: h, svg, listen, save, typed, num, ticks, seriesStyle, startView.

/**
 * The synced traits (saewidgets/widgets/training_monitor.py).
 * @typedef {Object} Model
 * @property {ArrayTrait | null} rows   float32 [n_rows, n_columns]: every history row sent so far
 * @property {string[]} columns         rows' column names: "sae" (index), "step", "tokens", "loss", "l0", ...
 * @property {"waiting" | "running" | "finished" | "interrupted"} status
 * @property {"tokens" | "step"} x_axis  the panels' shared x axis; set here by the select
 * @property {string[]} labels          legend name per SAE index (default "SAE i")
 * @property {string} title
 * @property {string[]} [extra_panels] more columns of rows, one linear-y panel each after the four
 * @property {Palette} _palette         one colour per SAE (common.js, _palette.py)
 * @property {boolean} [_offline]       set by the offline page's stand-in model
 */

const TM_PANELS = [
  { key: "loss", title: "loss", log: true },
  { key: "l0", title: "L0", log: false },
  { key: "fvu", title: "FVU", log: false },
  { key: "dead_fraction", title: "dead fraction", log: false },
];
const TM_W = 360;
const TM_H = 170;
const TM_M = { l: 50, r: 10, t: 8, b: 22 };
const TM_MAX_POINTS = 2000; // per line; longer runs are thinned (every k-th row, the last row always kept)
const TM_MIN_GAP_MS = 100;
const TM_ICONS = { waiting: "○", running: "●", finished: "✓", interrupted: "■" };

/** The rows as {n, c, col: name -> column, groups: [{sae, idx: row numbers}] by SAE index, values}. */
function decode(model) {
  const { shape, values } = typed(model.get("rows"));
  const columns = model.get("columns") || [];
  const n = shape.length === 2 ? shape[0] : 0;
  const c = shape.length === 2 ? shape[1] : columns.length;
  const col = Object.fromEntries(columns.map((name, i) => [name, i]));
  const bySae = new Map();
  for (let r = 0; r < n; r++) {
    const s = col.sae === undefined ? 0 : values[r * c + col.sae];
    if (!bySae.has(s)) bySae.set(s, []);
    bySae.get(s).push(r);
  }
  const groups = [...bySae.entries()].sort((a, b) => a[0] - b[0]).map(([sae, idx]) => ({ sae, idx }));
  return { n, c, col, groups, values };
}

const at = (data, r, name) => (data.col[name] === undefined ? NaN : data.values[r * data.c + data.col[name]]);
const sourceLabel = (model, sae) => (model.get("labels") || [])[sae] || `SAE ${sae}`;

/** The DOM skeleton, one panel per TM_PANELS entry and per extra_panels column, and the state the draw
 * functions share. */
function buildView(model) {
  const v = { model, data: null };
  v.title = h("strong", { class: "saew-tm-title" });
  v.status = h("span", { class: "saew-tm-status", role: "status", "aria-live": "polite" });
  const options = ["tokens", "step"].map((x) => h("option", { value: x, text: x }));
  v.xSelect = h("select", { class: "saew-tm-x", "aria-label": "x axis" }, ...options);
  const xLabel = h("label", { class: "saew-muted" }, "x axis ", v.xSelect);
  const head = h("div", { class: "saew-row saew-tm-head" }, v.title, v.status, xLabel);
  v.legend = h("div", { class: "saew-row saew-tm-legend" });
  v.latest = h("div", { class: "saew-tm-latest" });
  v.grid = h("div", { class: "saew-tm-grid" });
  v.note = h("div", { class: "saew-note saew-tm-note" });
  v.root = h("div", { class: "saew-widget saew-tm" }, head, v.legend, v.latest, v.grid, v.note);
  v.root.dataset.draws = "0";
  const extra = (model.get("extra_panels") || []).map((key) => ({ key, title: key, log: false }));
  v.panels = [...TM_PANELS, ...extra].map((spec) => {
    const readout = h("span", { class: "saew-tm-readout saew-muted" });
    const size = { viewBox: `0 0 ${TM_W} ${TM_H}`, width: TM_W, height: TM_H };
    const label = `${spec.title} against the x axis`;
    const box = svg("svg", { class: "saew-tm-svg", ...size, role: "img", "aria-label": label });
    const caption = h("span", { class: "saew-tm-ptitle", text: spec.title + (spec.log ? " (log)" : "") });
    const fig = h("figure", { class: "saew-tm-panel", "data-metric": spec.key });
    fig.append(h("figcaption", {}, caption, readout), box);
    v.grid.append(fig);
    return { spec, fig, box, readout, series: [] };
  });
  return v;
}

function drawHead(v) {
  const { model, data } = v;
  v.title.textContent = model.get("title") || "SAE training";
  const s = model.get("status") || "waiting";
  v.status.dataset.status = s;
  let text = `${TM_ICONS[s] || "•"} ${s}`;
  if (data && data.n) {
    const secs = at(data, data.n - 1, "seconds");
    text += ` · ${data.n} rows` + (Number.isFinite(secs) ? ` · ${secs.toFixed(1)} s` : "");
  }
  v.status.textContent = text;
  v.xSelect.value = model.get("x_axis") || "tokens";
}

/** The legend (several SAEs only) and each SAE's newest row as text. */
function drawLegendAndLatest(v) {
  const { model, data } = v;
  const pal = model.get("_palette");
  const multi = data.groups.length > 1;
  const swatch = (k) => h("span", { class: "saew-tm-swatch saew-series", style: seriesStyle(pal, k) });
  v.legend.replaceChildren();
  v.latest.replaceChildren();
  v.legend.hidden = !multi;
  data.groups.forEach((g, k) => {
    const name = sourceLabel(model, g.sae);
    if (multi)
      v.legend.append(h("span", { class: "saew-tm-key", "data-sae": String(g.sae) }, swatch(k), name));
    const r = g.idx[g.idx.length - 1];
    const line = h("div", { class: "saew-tm-line-text", "data-sae": String(g.sae) });
    if (multi) line.append(swatch(k), h("span", { class: "saew-tm-name", text: name }));
    const fields = [
      ["step", "step ", num(at(data, r, "step"), { fixed: 0 })],
      ["tokens", "tokens ", num(at(data, r, "tokens"))],
      ["loss", "loss ", num(at(data, r, "loss"), { fixed: 4 })],
      ["l0", "L0 ", num(at(data, r, "l0"), { fixed: 1 })],
      ["fvu", "FVU ", num(at(data, r, "fvu"), { fixed: 3 })],
      ["dead_fraction", "dead ", num(at(data, r, "dead_fraction"), { fixed: 3 })],
    ];
    for (const [key, label, text] of fields) {
      const value = h("span", { class: "saew-tm-val", "data-key": key, text });
      line.append(h("span", { class: "saew-tm-field" }, label, value));
    }
    v.latest.append(line);
  });
}

/** The y range [y0, y1] of a panel from its data range [lo, hi] (log: at least a factor of 2). */
function yRange(spec, lo, hi) {
  if (!Number.isFinite(lo)) return [spec.log ? 0.1 : 0, 1];
  if (!spec.log) {
    const y0 = Math.min(0, lo);
    return [y0, hi > y0 ? hi * 1.05 : y0 + (spec.key === "dead_fraction" ? 0.01 : 1)];
  }
  const [y0, y1] = [lo / 1.15, hi * 1.15];
  if (y1 / y0 >= 2) return [y0, y1];
  const mid = Math.sqrt(y0 * y1);
  return [mid / 1.5, mid * 1.5];
}

/** One panel: its axes, then one path per SAE (a lone point as a dot). */
function drawPanel(v, panel) {
  const { model, data } = v;
  const { spec, box } = panel;
  const xKey = model.get("x_axis") || "tokens";
  let [xmax, ylo, yhi] = [0, Infinity, -Infinity];
  const series = data.groups.map((g) => {
    const every = Math.ceil(g.idx.length / TM_MAX_POINTS);
    const idx = every > 1 ? g.idx.filter((_, i) => i % every === 0 || i === g.idx.length - 1) : g.idx;
    const [xs, ys] = [idx.map((r) => at(data, r, xKey)), idx.map((r) => at(data, r, spec.key))];
    for (const x of xs.filter(Number.isFinite)) xmax = Math.max(xmax, x);
    for (const y of ys.filter((y) => Number.isFinite(y) && (!spec.log || y > 0))) {
      [ylo, yhi] = [Math.min(ylo, y), Math.max(yhi, y)];
    }
    return { sae: g.sae, xs, ys, rows: g.idx.length };
  });
  if (!(xmax > 0)) xmax = 1;
  const [y0, y1] = yRange(spec, ylo, yhi);
  const [pw, ph, bottom] = [TM_W - TM_M.l - TM_M.r, TM_H - TM_M.t - TM_M.b, TM_H - TM_M.b];
  const sx = (x) => TM_M.l + (x / xmax) * pw;
  const frac = spec.log ? (y) => Math.log(y / y0) / Math.log(y1 / y0) : (y) => (y - y0) / (y1 - y0);
  const sy = (y) => TM_M.t + ph * (1 - frac(y));
  Object.assign(panel, { sx, xmax, series, xKey });

  const axes = svg("g", { class: "saew-tm-axes" });
  for (const { value, label } of ticks(y0, y1, { log: spec.log, count: 4 })) {
    const y = sy(value);
    if (y < TM_M.t - 0.5 || y > bottom + 0.5) continue;
    axes.append(
      svg("line", { class: "saew-tm-gridline", x1: TM_M.l, x2: TM_W - TM_M.r, y1: y, y2: y }),
      svg("text", { class: "saew-tm-tick", x: TM_M.l - 4, y: y + 3, "text-anchor": "end", text: label }),
    );
  }
  for (const { value, label } of ticks(0, xmax, { count: 4 })) {
    const x = sx(value);
    axes.append(
      svg("line", { class: "saew-tm-axis", x1: x, x2: x, y1: bottom, y2: bottom + 3 }),
      svg("text", { class: "saew-tm-tick", x, y: TM_H - 6, "text-anchor": "middle", text: label }),
    );
  }
  axes.append(
    svg("line", { class: "saew-tm-axis", x1: TM_M.l, x2: TM_W - TM_M.r, y1: bottom, y2: bottom }),
    svg("line", { class: "saew-tm-axis", x1: TM_M.l, x2: TM_M.l, y1: TM_M.t, y2: bottom }),
  );
  box.replaceChildren(axes);

  const pal = model.get("_palette");
  series.forEach((s, k) => {
    const [style, pts] = [seriesStyle(pal, k), []];
    let d = "";
    let pen = "M";
    for (let i = 0; i < s.xs.length; i++) {
      const [x, y] = [s.xs[i], s.ys[i]];
      if (!Number.isFinite(x) || !Number.isFinite(y) || (spec.log && y <= 0)) {
        pen = "M";
        continue;
      }
      pts.push([sx(x), sy(y)]);
      d += `${pen}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      pen = "L";
    }
    const attrs = {
      "data-sae": String(s.sae),
      "data-points": String(pts.length),
      "data-rows": String(s.rows),
    };
    const path = svg("path", { class: "saew-tm-line saew-series", style, d: d || "M0,0", ...attrs });
    path.append(svg("title", { text: sourceLabel(model, s.sae) }));
    box.append(path);
    if (pts.length !== 1) return; // a lone point is invisible as a path: mark it
    const [cx, cy] = pts[0];
    box.append(svg("circle", { class: "saew-tm-dot saew-series", style, cx, cy, r: 2.5 }));
  });
}

/** The mouse's x on a panel: each SAE's value at the nearest row, as text, and a cursor line. */
function hover(v, panel, ev) {
  if (!v.data || !v.data.n || !panel.sx) return;
  const rect = panel.box.getBoundingClientRect();
  const px = ((ev.clientX - rect.left) / rect.width) * TM_W;
  const x = ((px - TM_M.l) / (TM_W - TM_M.l - TM_M.r)) * panel.xmax;
  const parts = [];
  let x0 = null;
  for (const s of panel.series) {
    let [best, dist] = [-1, Infinity];
    for (let i = 0; i < s.xs.length; i++) {
      if (Math.abs(s.xs[i] - x) < dist) [best, dist] = [i, Math.abs(s.xs[i] - x)];
    }
    if (best < 0) continue;
    if (x0 === null) x0 = s.xs[best];
    parts.push((panel.series.length > 1 ? sourceLabel(v.model, s.sae) + " " : "") + num(s.ys[best]));
  }
  if (x0 === null) return;
  panel.readout.textContent = ` ${panel.xKey} ${num(x0)}: ${parts.join(", ")}`;
  if (!panel.cursor || !panel.cursor.isConnected) {
    panel.cursor = svg("line", { class: "saew-tm-cursor", y1: TM_M.t, y2: TM_H - TM_M.b });
    panel.box.append(panel.cursor);
  }
  panel.cursor.setAttribute("x1", panel.sx(x0));
  panel.cursor.setAttribute("x2", panel.sx(x0));
}

function unhover(panel) {
  panel.readout.textContent = "";
  if (panel.cursor) panel.cursor.remove();
}

function draw(v) {
  v.data = decode(v.model);
  const { data, root, note } = v;
  root.dataset.draws = String(Number(root.dataset.draws) + 1);
  root.dataset.rows = String(data.n);
  drawHead(v);
  drawLegendAndLatest(v);
  v.panels.forEach((panel) => drawPanel(v, panel));
  v.grid.hidden = data.n === 0;
  const thinned = data.groups.some((g) => g.idx.length > TM_MAX_POINTS);
  note.textContent =
    data.n === 0
      ? "Waiting for the first history row (train(..., callback=monitor.callback))."
      : thinned
        ? `Long run: each line is thinned to at most ${TM_MAX_POINTS} points (the last row is always drawn).`
        : "";
  note.hidden = !note.textContent;
}

export default {
  render({ model, el }) {
    startView(model, el);
    // lets a test (or a person in devtools) drive the offline page
    if (model.get("_offline")) el.saewModel = model;
    const v = buildView(model);
    v.xSelect.addEventListener("change", () => save(model, { x_axis: v.xSelect.value }));
    for (const panel of v.panels) {
      panel.box.addEventListener("mousemove", (ev) => hover(v, panel, ev));
      panel.box.addEventListener("mouseleave", () => unhover(panel));
    }
    // At most one redraw per TM_MIN_GAP_MS, on an animation frame, however fast rows arrive.
    let [timer, frame, lastDraw] = [0, 0, -Infinity];
    const redraw = () => {
      frame = 0;
      lastDraw = performance.now();
      draw(v);
    };
    const schedule = () => {
      if (timer || frame) return;
      const wait = Math.max(0, TM_MIN_GAP_MS - (performance.now() - lastDraw));
      timer = setTimeout(() => {
        timer = 0;
        frame = requestAnimationFrame(redraw);
      }, wait);
    };
    const traits = ["rows", "columns", "status", "x_axis", "labels", "title", "_palette"];
    const events = traits.map((name) => `change:${name}`);
    const stop = listen(model, events, schedule);
    draw(v);
    lastDraw = performance.now();
    el.append(v.root);
    return () => {
      stop();
      clearTimeout(timer);
      cancelAnimationFrame(frame);
    };
  },
};
