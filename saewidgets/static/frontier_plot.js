// FrontierPlot: L0 against a fidelity metric as an SVG scatter, one marker shape and colour per
// architecture, each architecture's Pareto front (computed in Python, `_fronts`) as a line.
// Hover or focus a point for its details; click it or press Enter to set `selected` (synced to Python).

const FP_W = 640, FP_H = 400;
const FP_M = { left: 64, right: 16, top: 14, bottom: 46 };
const FP_MARKERS = { relu: "o", standard: "o", jumprelu: "X", topk: "^", batchtopk: "s", batch_topk: "s",
  gated: "D", matryoshka: "*", p_anneal: "P" };
const FP_CYCLE = ["o", "X", "^", "s", "D", "*", "P", "v"];
const FP_N_COLORS = 8;

/** SVG path of a marker centred on 0,0 with radius ~r (matplotlib's marker names). */
function markerPath(shape, r) {
  const p = (pts) => "M" + pts.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join("L") + "Z";
  switch (shape) {
    case "^": return p([[0, -r * 1.15], [r * 1.1, r * 0.8], [-r * 1.1, r * 0.8]]);
    case "v": return p([[0, r * 1.15], [r * 1.1, -r * 0.8], [-r * 1.1, -r * 0.8]]);
    case "s": return p([[-r * 0.9, -r * 0.9], [r * 0.9, -r * 0.9], [r * 0.9, r * 0.9], [-r * 0.9, r * 0.9]]);
    case "D": return p([[0, -r * 1.2], [r * 1.0, 0], [0, r * 1.2], [-r * 1.0, 0]]);
    case "X": {
      const a = r * 0.5, b = r * 1.1;
      return p([[-b, -b + a], [-b + a, -b], [0, -a], [b - a, -b], [b, -b + a], [a, 0], [b, b - a], [b - a, b],
        [0, a], [-b + a, b], [-b, b - a], [-a, 0]]);
    }
    case "P": {
      const a = r * 0.38, b = r * 1.05;
      return p([[-a, -b], [a, -b], [a, -a], [b, -a], [b, a], [a, a], [a, b], [-a, b], [-a, a], [-b, a], [-b, -a], [-a, -a]]);
    }
    case "*": {
      const pts = [];
      for (let k = 0; k < 10; k++) {
        const rad = k % 2 ? r * 0.55 : r * 1.3, ang = -Math.PI / 2 + (k * Math.PI) / 5;
        pts.push([rad * Math.cos(ang), rad * Math.sin(ang)]);
      }
      return p(pts);
    }
    default: return `M${-r},0a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z`;
  }
}

/** A short, readable number for a tick or a tooltip: 5, 20, 0.05, 1.2k, 3e-5. */
function fpNum(v, digits = 3) {
  if (!Number.isFinite(v)) return "–";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-4) return v.toExponential(1).replace("e+", "e");
  if (a >= 1e3) return `${Number((v / 1e3).toPrecision(digits))}k`;
  return String(Number(v.toPrecision(digits)));
}

/** Labels for a row of ticks: 3 significant digits, more where that would print two ticks alike (a narrow range
 * near 1 — ticks 0.9995, 1, 1.0005 — would all read "1"). */
function tickLabels(ticks) {
  for (let digits = 3; digits < 10; digits++) {
    const labels = ticks.map((t) => fpNum(t, digits));
    if (new Set(labels).size === labels.length) return labels;
  }
  return ticks.map((t) => String(t));
}

/** Ticks on a log axis at 1-2-5 (or 1-2-3-5, or decades) multiples, whichever gives a readable count. */
function logTicks(lo, hi) {
  const decades = Math.log10(hi / lo);
  const mults = decades <= 1 ? [1, 2, 3, 5] : decades <= 3 ? [1, 2, 5] : [1];
  const every = decades > 7 ? Math.ceil(decades / 6) : 1;
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    if (e % every) continue;
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(Number(v.toPrecision(6)));
    }
  }
  if (out.length >= 2) return out;
  return niceTicks(lo, hi, 4).filter((v) => v > 0);
}

/** {lo, hi, map(v) -> [0, 1], ticks} for values on a linear or log scale, padded 6% each side. */
function makeScale(values, log) {
  const vs = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (!vs.length) return null;
  let lo = Math.min(...vs), hi = Math.max(...vs);
  if (log) {
    let a = Math.log10(lo), b = Math.log10(hi);
    const pad = b > a ? (b - a) * 0.06 : 0.3;
    a -= pad; b += pad;
    lo = 10 ** a; hi = 10 ** b;
    return { lo, hi, log, map: (v) => (Math.log10(v) - a) / (b - a), ticks: logTicks(lo, hi) };
  }
  const pad = hi > lo ? (hi - lo) * 0.06 : Math.abs(hi) * 0.1 || 1;
  lo -= pad; hi += pad;
  return { lo, hi, log, map: (v) => (v - lo) / (hi - lo), ticks: niceTicks(lo, hi) };
}

export default {
  render({ model, el }) {
    const root = h("div", { class: "saew-widget saew-fp" });
    const controls = h("div", { class: "saew-row saew-fp-controls" });
    const metricSelect = h("select", { class: "saew-fp-metric", "aria-label": "y-axis metric" });
    const xLog = h("input", { type: "checkbox", class: "saew-fp-xlog" });
    const yLog = h("input", { type: "checkbox", class: "saew-fp-ylog" });
    controls.append(
      h("label", {}, h("span", { class: "saew-muted", text: "y: " }), metricSelect),
      h("label", {}, xLog, document.createTextNode(" log x")),
      h("label", {}, yLog, document.createTextNode(" log y")),
    );
    const title = h("div", { class: "saew-fp-title saew-muted" });
    const plotBox = h("div", { class: "saew-fp-plot" });
    const plot = svg("svg", { class: "saew-fp-svg", viewBox: `0 0 ${FP_W} ${FP_H}`, role: "group",
      "aria-label": "sparsity-fidelity frontier; arrow keys move between points, Enter selects" });
    const tip = h("div", { class: "saew-fp-tip", role: "tooltip" });
    tip.hidden = true;
    plotBox.append(plot, tip);
    const legend = h("div", { class: "saew-row saew-fp-legend" });
    const notes = h("div", { class: "saew-note saew-fp-notes" });
    const status = h("div", { class: "saew-row saew-fp-status", "aria-live": "polite" });
    root.append(controls, title, plotBox, legend, notes, status);
    el.append(root);

    let nodes = new Map(); // point index -> <g>
    let order = []; // visible point indices sorted by screen x (keyboard order)

    const points = () => model.get("points") || [];
    const labelOf = (key) => (model.get("_labels") || {})[key] || key;
    const higherBetter = (key) => (model.get("_higher_is_better") || ["ce_loss_score", "explained_variance",
      "cossim", "kl_score", "kl_div_score"]).includes(key);
    const fronts = () => {
      const byMetric = model.get("_fronts_by_metric"); // offline page only: no kernel to recompute
      if (model.get("_offline") && byMetric && byMetric[model.get("y_metric")]) return byMetric[model.get("y_metric")];
      return model.get("_fronts") || {};
    };
    const archList = () => [...new Set(points().map((p) => p.architecture))];
    const archStyle = (arch, k) => ({ shape: FP_MARKERS[arch] || FP_CYCLE[k % FP_CYCLE.length], color: k % FP_N_COLORS });

    function select(i) {
      model.set("selected", i);
      model.save_changes();
      markSelected();
    }

    function showTip(i, node) {
      const p = points()[i], metric = model.get("y_metric");
      const onFront = (fronts()[p.architecture] || []).includes(i);
      tip.replaceChildren(
        h("div", { class: "saew-fp-tip-name", text: String(p.name ?? `point ${i}`) }),
        h("div", { text: `architecture: ${p.architecture}` }),
        ...(p.knob !== undefined ? [h("div", { text: `${p.knob} = ${fpNum(Number(p.value), 4)}` })] : []),
        h("div", { text: `L0 = ${fpNum(Number(p.l0), 4)}` }),
        h("div", { text: `${metric} = ${fpNum(Number(p[metric]), 4)}` }),
        ...(p.d_sae !== undefined ? [h("div", { text: `d_sae = ${p.d_sae}` })] : []),
        h("div", { class: "saew-muted", text: onFront ? "on the Pareto front" : "dominated (off the front)" }),
      );
      tip.hidden = false;
      const box = plotBox.getBoundingClientRect(), r = node.getBoundingClientRect();
      // away from the point, towards the middle of the plot, so it never covers the point it describes
      const cx = r.left - box.left + r.width / 2, cy = r.top - box.top + r.height / 2;
      const left = cx > box.width / 2 ? cx - tip.offsetWidth - 14 : cx + 14;
      const top = cy > box.height / 2 ? cy - tip.offsetHeight - 10 : cy + 10;
      tip.style.left = `${Math.max(0, Math.min(left, box.width - tip.offsetWidth))}px`;
      tip.style.top = `${Math.max(0, top)}px`;
    }
    const hideTip = () => { tip.hidden = true; };

    function markSelected() {
      const sel = model.get("selected");
      for (const [i, node] of nodes) node.classList.toggle("saew-fp-selected", i === sel);
      root.dataset.selected = sel === null || sel === undefined ? "" : String(sel);
      const p = sel === null || sel === undefined ? null : points()[sel];
      status.replaceChildren();
      if (p) {
        const metric = model.get("y_metric");
        status.append(
          h("span", { class: "saew-fp-selected-text", text: `selected: ${p.name ?? sel} (#${sel}) · L0 ${fpNum(Number(p.l0))} · ${metric} ${fpNum(Number(p[metric]), 4)}` }),
          h("button", { class: "saew-fp-clear", text: "clear", onclick: () => select(null) }),
        );
        if (!model.get("_offline")) status.append(h("span", { class: "saew-note", text: "→ widget.selected_point in Python" }));
      } else {
        status.append(h("span", { class: "saew-muted", text: "click a point (or focus it and press Enter) to select that SAE" }));
      }
      // roving tabindex: the selected point, else the first, is the one Tab lands on
      const focusTarget = nodes.has(sel) ? sel : order[0];
      for (const [i, node] of nodes) node.setAttribute("tabindex", i === focusTarget ? "0" : "-1");
    }

    function move(i, key) {
      const at = order.indexOf(i);
      let next = i;
      if (key === "ArrowRight") next = order[Math.min(order.length - 1, at + 1)];
      else if (key === "ArrowLeft") next = order[Math.max(0, at - 1)];
      else if (key === "Home") next = order[0];
      else if (key === "End") next = order[order.length - 1];
      else if (key === "ArrowUp" || key === "ArrowDown") {
        // nearest point (by screen x) of the next / previous architecture
        const archs = archList(), pts = points();
        const k = archs.indexOf(pts[i].architecture), step = key === "ArrowUp" ? 1 : -1;
        for (let d = 1; d < archs.length; d++) {
          const target = archs[(k + step * d + archs.length * d) % archs.length];
          const cands = order.filter((j) => pts[j].architecture === target);
          if (cands.length) {
            const x = Number(nodes.get(i).dataset.x);
            next = cands.reduce((a, b) => (Math.abs(Number(nodes.get(b).dataset.x) - x) < Math.abs(Number(nodes.get(a).dataset.x) - x) ? b : a));
            break;
          }
        }
      }
      if (next !== undefined && nodes.has(next)) {
        for (const [j, node] of nodes) node.setAttribute("tabindex", j === next ? "0" : "-1");
        nodes.get(next).focus();
      }
    }

    function draw() {
      const hadFocus = root.contains(document.activeElement) && document.activeElement.dataset
        ? Number(document.activeElement.dataset.index) : NaN;
      const pts = points(), metric = model.get("y_metric"), archs = archList();
      const xl = !!model.get("x_log"), yl = !!model.get("y_log");
      xLog.checked = xl; yLog.checked = yl;
      const metrics = model.get("_metrics") || [];
      metricSelect.replaceChildren(...metrics.map((m) => h("option", { value: m, text: labelOf(m).split(" (")[0] === m ? m : `${m} — ${labelOf(m).split(" (")[0]}` })));
      metricSelect.value = metric;
      title.textContent = model.get("title") || "";
      title.hidden = !model.get("title");

      const hiddenMissing = [], hiddenLog = [];
      const visible = [];
      pts.forEach((p, i) => {
        const x = Number(p.l0), y = p[metric] === null || p[metric] === undefined ? NaN : Number(p[metric]);
        if (!Number.isFinite(x) || !Number.isFinite(y)) hiddenMissing.push(i);
        else if ((xl && x <= 0) || (yl && y <= 0)) hiddenLog.push(i);
        else visible.push(i);
      });
      const sx = makeScale(visible.map((i) => Number(pts[i].l0)), xl);
      const sy = makeScale(visible.map((i) => Number(pts[i][metric])), yl);
      const pw = FP_W - FP_M.left - FP_M.right, ph = FP_H - FP_M.top - FP_M.bottom;
      const X = (v) => FP_M.left + sx.map(v) * pw, Y = (v) => FP_M.top + (1 - sy.map(v)) * ph;

      plot.replaceChildren();
      nodes = new Map();
      if (!sx || !sy) {
        plot.append(svg("text", { class: "saew-fp-empty", x: FP_W / 2, y: FP_H / 2, "text-anchor": "middle", text: `no point has a plottable ${metric}` }));
      } else {
        const grid = svg("g", { class: "saew-fp-grid" }), axes = svg("g", { class: "saew-fp-axes" });
        const xTicks = svg("g", { class: "saew-fp-xticks" }), yTicks = svg("g", { class: "saew-fp-yticks" });
        const xLabels = tickLabels(sx.ticks), yLabels = tickLabels(sy.ticks);
        for (const [k, t] of sx.ticks.entries()) {
          const x = X(t);
          grid.append(svg("line", { x1: x, x2: x, y1: FP_M.top, y2: FP_M.top + ph }));
          xTicks.append(svg("line", { x1: x, x2: x, y1: FP_M.top + ph, y2: FP_M.top + ph + 4 }),
            svg("text", { class: "saew-fp-tick", x, y: FP_M.top + ph + 17, "text-anchor": "middle", text: xLabels[k] }));
        }
        for (const [k, t] of sy.ticks.entries()) {
          const y = Y(t);
          grid.append(svg("line", { x1: FP_M.left, x2: FP_M.left + pw, y1: y, y2: y }));
          yTicks.append(svg("line", { x1: FP_M.left - 4, x2: FP_M.left, y1: y, y2: y }),
            svg("text", { class: "saew-fp-tick", x: FP_M.left - 7, y: y + 4, "text-anchor": "end", text: yLabels[k] }));
        }
        axes.append(svg("rect", { class: "saew-fp-frame", x: FP_M.left, y: FP_M.top, width: pw, height: ph }));
        const better = higherBetter(metric) ? "higher is better" : "lower is better";
        const xLabel = svg("text", { class: "saew-fp-xlabel", x: FP_M.left + pw / 2, y: FP_H - 8, "text-anchor": "middle",
          text: `${labelOf("l0")}${xl ? ", log scale" : ""}` });
        const yLabel = svg("text", { class: "saew-fp-ylabel", transform: `translate(14 ${FP_M.top + ph / 2}) rotate(-90)`,
          "text-anchor": "middle", text: `${labelOf(metric).split(" (")[0]} (${better}${yl ? ", log" : ""})` });
        plot.append(grid, axes, xTicks, yTicks, xLabel, yLabel);

        const fr = fronts(), lines = svg("g", { class: "saew-fp-fronts" }), marks = svg("g", { class: "saew-fp-points" });
        archs.forEach((arch, k) => {
          const { color } = archStyle(arch, k);
          const idx = (fr[arch] || []).filter((i) => visible.includes(i));
          if (idx.length >= 1) {
            const d = idx.map((i, j) => `${j ? "L" : "M"}${X(Number(pts[i].l0)).toFixed(1)},${Y(Number(pts[i][metric])).toFixed(1)}`).join("");
            lines.append(svg("path", { class: `saew-fp-front saew-fp-c${color}`, d, "data-arch": arch }));
          }
        });
        const frontSet = new Set(Object.values(fr).flat());
        for (const i of visible) {
          const p = pts[i], k = archs.indexOf(p.architecture), { shape, color } = archStyle(p.architecture, k);
          const x = X(Number(p.l0)), y = Y(Number(p[metric]));
          const g = svg("g", { class: `saew-fp-point saew-fp-c${color}${frontSet.has(i) ? "" : " saew-fp-dominated"}`,
            transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`, tabindex: "-1", role: "button",
            "data-index": i, "data-x": x.toFixed(1), "data-arch": p.architecture,
            "aria-label": `${p.name ?? "point " + i}: L0 ${fpNum(Number(p.l0))}, ${metric} ${fpNum(Number(p[metric]), 4)}` },
          svg("circle", { class: "saew-fp-ring", r: 11 }),
          svg("path", { class: "saew-fp-marker", d: markerPath(shape, 6) }),
          svg("circle", { class: "saew-fp-hit", r: 10 }));
          g.addEventListener("mouseenter", () => showTip(i, g));
          g.addEventListener("mouseleave", hideTip);
          g.addEventListener("focus", () => showTip(i, g));
          g.addEventListener("blur", hideTip);
          g.addEventListener("click", () => { select(i); g.focus(); });
          g.addEventListener("keydown", (e) => {
            if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(i); }
            else if (e.key === "Escape") { e.preventDefault(); select(null); }
            else if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(e.key)) { e.preventDefault(); move(i, e.key); }
          });
          nodes.set(i, g);
          marks.append(g);
        }
        plot.append(lines, marks);
        order = [...visible].sort((a, b) => Number(nodes.get(a).dataset.x) - Number(nodes.get(b).dataset.x) || a - b);
      }

      legend.replaceChildren(...archs.map((arch, k) => {
        const { shape, color } = archStyle(arch, k), n = pts.filter((p) => p.architecture === arch).length;
        return h("span", { class: "saew-fp-legend-item", "data-arch": arch },
          svg("svg", { class: `saew-fp-swatch saew-fp-c${color}`, viewBox: "-16 -8 32 16", width: 32, height: 16 },
            svg("line", { class: "saew-fp-front", x1: -15, x2: 15, y1: 0, y2: 0 }),
            svg("path", { class: "saew-fp-marker", d: markerPath(shape, 5) })),
          document.createTextNode(` ${arch} (${n})`));
      }), h("span", { class: "saew-note", text: "line: Pareto front (fewest active latents for the best fidelity); faded: dominated" }));

      const msgs = [];
      if (hiddenMissing.length) msgs.push(`${hiddenMissing.length} point(s) have no ${metric} and are not shown.`);
      if (hiddenLog.length) msgs.push(`${hiddenLog.length} point(s) with a value ≤ 0 cannot sit on a log axis and are not shown.`);
      notes.textContent = msgs.join(" ");
      notes.hidden = !msgs.length;
      hideTip();
      markSelected();
      if (Number.isInteger(hadFocus) && nodes.has(hadFocus)) nodes.get(hadFocus).focus();
    }

    metricSelect.addEventListener("change", () => { model.set("y_metric", metricSelect.value); model.save_changes(); });
    xLog.addEventListener("change", () => { model.set("x_log", xLog.checked); model.save_changes(); });
    yLog.addEventListener("change", () => { model.set("y_log", yLog.checked); model.save_changes(); });
    const events = ["change:points", "change:y_metric", "change:x_log", "change:y_log", "change:_fronts", "change:_metrics", "change:title"];
    const stops = [listen(model, events, draw), listen(model, ["change:selected"], markSelected)];
    draw();
    return () => stops.forEach((stop) => stop());
  },
};
