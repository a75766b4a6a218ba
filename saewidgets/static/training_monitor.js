// TrainingMonitor: four small SVG panels (loss on log-y, L0, FVU, dead fraction) over a shared x axis,
// one line per SAE, a legend, the latest values as text and a status line. Rows arrive as one float32
// array [n_rows, n_columns]; redraws are coalesced to at most one per ~100 ms and one animation frame.

const TM_PANELS = [
  { key: "loss", title: "loss", log: true },
  { key: "l0", title: "L0", log: false },
  { key: "fvu", title: "FVU", log: false },
  { key: "dead_fraction", title: "dead fraction", log: false },
];
const TM_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const TM_W = 360, TM_H = 170, TM_M = { l: 50, r: 10, t: 8, b: 22 };
const TM_MAX_POINTS = 2000; // per line; longer runs are thinned (every k-th row, the last row always kept)
const TM_MIN_GAP_MS = 100;

/** Compact number for ticks and text: 4.9M, 12k, 0.048, 1e-5. */
function short(x) {
  if (!Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a === 0) return "0";
  const trim = (s) => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);
  if (a >= 1e9) return trim((x / 1e9).toFixed(2)) + "G";
  if (a >= 1e6) return trim((x / 1e6).toFixed(2)) + "M";
  if (a >= 1e3) return trim((x / 1e3).toFixed(1)) + "k";
  if (a >= 1e-3) return String(Number(x.toPrecision(3)));
  return x.toExponential(0);
}

function linearTicks(lo, hi, n = 4) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / n, p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || p * 10;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo * 0.999 && t <= hi * 1.001) out.push(t);
    }
  }
  const decades = out.filter((t) => Number(t.toPrecision(1)) === 10 ** Math.round(Math.log10(t)));
  if (out.length > 6 && decades.length >= 2) return decades;
  return out.length >= 3 ? out : linearTicks(lo, hi, 3).filter((t) => t > 0); // under a decade: plain ticks
}

export default {
  render({ model, el }) {
    if (model.get("_offline")) el.saewModel = model; // lets a test (or a person in devtools) drive the offline page

    const title = h("strong", { class: "saew-tm-title" });
    const status = h("span", { class: "saew-tm-status", role: "status", "aria-live": "polite" });
    const xSelect = h("select", { class: "saew-tm-x", "aria-label": "x axis" },
      h("option", { value: "tokens", text: "tokens" }), h("option", { value: "step", text: "step" }));
    xSelect.addEventListener("change", () => { model.set("x_axis", xSelect.value); model.save_changes(); });
    const head = h("div", { class: "saew-row saew-tm-head" }, title, status,
      h("label", { class: "saew-muted" }, "x axis ", xSelect));
    const legend = h("div", { class: "saew-row saew-tm-legend" });
    const latest = h("div", { class: "saew-tm-latest" });
    const grid = h("div", { class: "saew-tm-grid" });
    const note = h("div", { class: "saew-note saew-tm-note" });
    const root = h("div", { class: "saew-widget saew-tm" }, head, legend, latest, grid, note);
    root.dataset.draws = "0";

    const panels = TM_PANELS.map((spec) => {
      const readout = h("span", { class: "saew-tm-readout saew-muted" });
      const box = svg("svg", { class: "saew-tm-svg", viewBox: `0 0 ${TM_W} ${TM_H}`, width: TM_W, height: TM_H,
        role: "img", "aria-label": `${spec.title} against the x axis` });
      const fig = h("figure", { class: "saew-tm-panel", "data-metric": spec.key },
        h("figcaption", {}, h("span", { class: "saew-tm-ptitle", text: spec.title + (spec.log ? " (log)" : "") }), readout),
        box);
      grid.append(fig);
      const panel = { spec, fig, box, readout, series: [], xs: null, ys: null };
      box.addEventListener("mousemove", (ev) => hover(panel, ev));
      box.addEventListener("mouseleave", () => { panel.readout.textContent = ""; panel.cursor && panel.cursor.remove(); });
      return panel;
    });

    let data = null; // {n, col: name -> index, groups: [{sae, idx: [row numbers]}], values}

    function decode() {
      const { shape, values } = typed(model.get("rows"));
      const columns = model.get("columns") || [];
      const n = shape.length === 2 ? shape[0] : 0, c = shape.length === 2 ? shape[1] : columns.length;
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

    const at = (r, name) => (data.col[name] === undefined ? NaN : data.values[r * data.c + data.col[name]]);
    const label = (sae) => (model.get("labels") || [])[sae] || `SAE ${sae}`;
    const color = (k) => TM_COLORS[k % TM_COLORS.length];

    function drawHead() {
      title.textContent = model.get("title") || "SAE training";
      const s = model.get("status") || "waiting";
      status.dataset.status = s;
      const icon = { waiting: "○", running: "●", finished: "✓", interrupted: "■" }[s] || "•";
      let text = `${icon} ${s}`;
      if (data && data.n) {
        const last = data.n - 1, secs = at(last, "seconds");
        text += ` · ${data.n} rows` + (Number.isFinite(secs) ? ` · ${secs.toFixed(1)} s` : "");
      }
      status.textContent = text;
      xSelect.value = model.get("x_axis") || "tokens";
    }

    function drawLegendAndLatest() {
      legend.replaceChildren();
      latest.replaceChildren();
      const multi = data.groups.length > 1;
      legend.hidden = !multi;
      data.groups.forEach((g, k) => {
        if (multi) legend.append(h("span", { class: "saew-tm-key", "data-sae": String(g.sae) },
          h("span", { class: "saew-tm-swatch", style: `background:${color(k)}` }), label(g.sae)));
        const r = g.idx[g.idx.length - 1];
        const field = (key, text) => h("span", { class: "saew-tm-val", "data-key": key, text });
        const line = h("div", { class: "saew-tm-line-text", "data-sae": String(g.sae) });
        if (multi) line.append(h("span", { class: "saew-tm-swatch", style: `background:${color(k)}` }),
          h("span", { class: "saew-tm-name", text: label(g.sae) }));
        const parts = [
          ["step", "step ", String(Math.round(at(r, "step")))],
          ["tokens", "tokens ", short(at(r, "tokens"))],
          ["loss", "loss ", fmt(at(r, "loss"), 4)],
          ["l0", "L0 ", fmt(at(r, "l0"), 1)],
          ["fvu", "FVU ", fmt(at(r, "fvu"), 3)],
          ["dead_fraction", "dead ", fmt(at(r, "dead_fraction"), 3)],
        ];
        for (const [key, name, text] of parts) line.append(h("span", { class: "saew-tm-field" }, name, field(key, text)));
        latest.append(line);
      });
    }

    function drawPanel(panel) {
      const { spec, box } = panel;
      box.replaceChildren();
      const xKey = model.get("x_axis") || "tokens";
      let xmax = 0, ylo = Infinity, yhi = -Infinity;
      const series = data.groups.map((g) => {
        let idx = g.idx;
        if (idx.length > TM_MAX_POINTS) {
          const k = Math.ceil(idx.length / TM_MAX_POINTS);
          idx = idx.filter((_, i) => i % k === 0 || i === g.idx.length - 1);
        }
        const xs = idx.map((r) => at(r, xKey)), ys = idx.map((r) => at(r, spec.key));
        xs.forEach((x) => { if (Number.isFinite(x)) xmax = Math.max(xmax, x); });
        ys.forEach((y) => { if (Number.isFinite(y) && (!spec.log || y > 0)) { ylo = Math.min(ylo, y); yhi = Math.max(yhi, y); } });
        return { sae: g.sae, xs, ys, rows: g.idx.length };
      });
      if (!(xmax > 0)) xmax = 1;
      let y0, y1;
      if (!Number.isFinite(ylo)) { y0 = spec.log ? 0.1 : 0; y1 = 1; }
      else if (spec.log) { y0 = ylo / 1.15; y1 = yhi * 1.15; if (y1 / y0 < 2) { const m = Math.sqrt(y0 * y1); y0 = m / 1.5; y1 = m * 1.5; } }
      else { y0 = Math.min(0, ylo); y1 = yhi > y0 ? yhi * 1.05 : y0 + (spec.key === "dead_fraction" ? 0.01 : 1); }
      const pw = TM_W - TM_M.l - TM_M.r, ph = TM_H - TM_M.t - TM_M.b;
      const sx = (x) => TM_M.l + (x / xmax) * pw;
      const sy = spec.log ? (y) => TM_M.t + ph * (1 - Math.log(y / y0) / Math.log(y1 / y0))
        : (y) => TM_M.t + ph * (1 - (y - y0) / (y1 - y0));
      Object.assign(panel, { sx, sy, xmax, y0, y1, series, xKey });

      const axes = svg("g", { class: "saew-tm-axes" });
      for (const t of spec.log ? logTicks(y0, y1) : linearTicks(y0, y1)) {
        const y = sy(t);
        if (y < TM_M.t - 0.5 || y > TM_H - TM_M.b + 0.5) continue;
        axes.append(svg("line", { class: "saew-tm-gridline", x1: TM_M.l, x2: TM_W - TM_M.r, y1: y, y2: y }));
        const lab = svg("text", { class: "saew-tm-tick", x: TM_M.l - 4, y: y + 3, "text-anchor": "end" });
        lab.textContent = short(t);
        axes.append(lab);
      }
      for (const t of linearTicks(0, xmax)) {
        const x = sx(t);
        const lab = svg("text", { class: "saew-tm-tick", x, y: TM_H - 6, "text-anchor": "middle" });
        lab.textContent = short(t);
        axes.append(svg("line", { class: "saew-tm-axis", x1: x, x2: x, y1: TM_H - TM_M.b, y2: TM_H - TM_M.b + 3 }), lab);
      }
      axes.append(svg("line", { class: "saew-tm-axis", x1: TM_M.l, x2: TM_W - TM_M.r, y1: TM_H - TM_M.b, y2: TM_H - TM_M.b }),
        svg("line", { class: "saew-tm-axis", x1: TM_M.l, x2: TM_M.l, y1: TM_M.t, y2: TM_H - TM_M.b }));
      box.append(axes);

      series.forEach((s, k) => {
        let d = "", pen = "M", points = 0;
        for (let i = 0; i < s.xs.length; i++) {
          const x = s.xs[i], y = s.ys[i];
          if (!Number.isFinite(x) || !Number.isFinite(y) || (spec.log && y <= 0)) { pen = "M"; continue; }
          d += `${pen}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
          pen = "L";
          points++;
        }
        const path = svg("path", { class: "saew-tm-line", d: d || "M0,0", stroke: color(k), "data-sae": String(s.sae),
          "data-points": String(points), "data-rows": String(s.rows) });
        const tip = svg("title");
        tip.textContent = label(s.sae);
        path.append(tip);
        box.append(path);
        if (points === 1) { // a lone point is invisible as a path: mark it
          const [mx, my] = d.slice(1).split(",").map(Number);
          box.append(svg("circle", { class: "saew-tm-dot", cx: mx, cy: my, r: 2.5, fill: color(k) }));
        }
      });
    }

    function nearest(xs, x) {
      let best = -1, dist = Infinity;
      for (let i = 0; i < xs.length; i++) { const d = Math.abs(xs[i] - x); if (d < dist) { dist = d; best = i; } }
      return best;
    }

    function hover(panel, ev) {
      if (!data || !data.n || !panel.sx) return;
      const rect = panel.box.getBoundingClientRect();
      const px = ((ev.clientX - rect.left) / rect.width) * TM_W;
      const x = ((px - TM_M.l) / (TM_W - TM_M.l - TM_M.r)) * panel.xmax;
      const parts = [];
      let at0 = null;
      panel.series.forEach((s) => {
        const i = nearest(s.xs, x);
        if (i < 0) return;
        if (at0 === null) at0 = s.xs[i];
        parts.push((panel.series.length > 1 ? label(s.sae) + " " : "") + short(s.ys[i]));
      });
      if (at0 === null) return;
      panel.readout.textContent = ` ${panel.xKey} ${short(at0)}: ${parts.join(", ")}`;
      if (!panel.cursor || !panel.cursor.isConnected) {
        panel.cursor = svg("line", { class: "saew-tm-cursor", y1: TM_M.t, y2: TM_H - TM_M.b });
        panel.box.append(panel.cursor);
      }
      panel.cursor.setAttribute("x1", panel.sx(at0));
      panel.cursor.setAttribute("x2", panel.sx(at0));
    }

    function draw() {
      data = decode();
      root.dataset.draws = String(Number(root.dataset.draws) + 1);
      root.dataset.rows = String(data.n);
      drawHead();
      drawLegendAndLatest();
      panels.forEach(drawPanel);
      grid.hidden = data.n === 0;
      const thinned = data.groups.some((g) => g.idx.length > TM_MAX_POINTS);
      note.textContent = data.n === 0 ? "Waiting for the first history row (train(..., callback=monitor.callback))."
        : thinned ? `Long run: each line is thinned to at most ${TM_MAX_POINTS} points (the last row is always drawn).` : "";
      note.hidden = !note.textContent;
    }

    // At most one redraw per TM_MIN_GAP_MS, on an animation frame, however fast rows arrive.
    let timer = 0, frame = 0, lastDraw = -Infinity;
    function schedule() {
      if (timer || frame) return;
      const wait = Math.max(0, TM_MIN_GAP_MS - (performance.now() - lastDraw));
      timer = setTimeout(() => {
        timer = 0;
        frame = requestAnimationFrame(() => { frame = 0; lastDraw = performance.now(); draw(); });
      }, wait);
    }
    const events = ["change:rows", "change:columns", "change:status", "change:x_axis", "change:labels", "change:title"];
    const stop = listen(model, events, schedule);

    draw();
    lastDraw = performance.now();
    el.append(root);
    return () => {
      stop();
      clearTimeout(timer);
      cancelAnimationFrame(frame);
    };
  },
};
