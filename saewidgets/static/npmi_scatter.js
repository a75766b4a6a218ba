// NPMIScatter: one SVG circle per latent pair, x = decoder cosine similarity, y = NPMI (the paper's Fig. 3).
// Drag a rectangle to brush pairs into `selected_pairs` (listed in a table); a click without a drag picks
// the nearest point: that pair, and its first latent as `selected_latent`. Hover shows the pair.

const NS_W = 640, NS_H = 420;
const NS_M = { left: 56, right: 14, top: 12, bottom: 44 };
const NS_TABLE_ROWS = 50;

export default {
  render({ model, el }) {
    const arr = dcArrays(model);
    const root = h("div", { class: "saew-widget saew-dc saew-ns" });
    const title = h("div", { class: "saew-dc-title" });
    const plotBox = h("div", { class: "saew-ns-plot" });
    const plot = svg("svg", { class: "saew-dc-svg saew-ns-svg", viewBox: `0 0 ${NS_W} ${NS_H}`, role: "img",
      "aria-label": "latent pairs: decoder cosine similarity against NPMI; drag to select pairs" });
    const tip = h("div", { class: "saew-dc-tip saew-ns-tip", role: "tooltip" });
    tip.hidden = true;
    plotBox.append(plot, tip);
    const info = h("div", { class: "saew-note saew-ns-info" });
    const status = h("div", { class: "saew-row saew-dc-status saew-ns-status", role: "status" });
    const table = h("div", { class: "saew-ns-table" });
    root.append(title, plotBox, info, status, table);
    el.append(root);

    const pw = NS_W - NS_M.left - NS_M.right, ph = NS_H - NS_M.top - NS_M.bottom;
    let X = null, Y = null, circles = [], px = new Float32Array(0), py = new Float32Array(0);
    const labels = () => model.get("_labels") || {};
    const n = () => arr("_x").values.length;

    function domain(values, extra, lo0, hi0) {
      let lo = lo0, hi = hi0;
      for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
      for (const v of extra) if (v !== null && v !== undefined) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const pad = (hi - lo) * 0.05 || 0.1;
      return [lo - pad, hi + pad];
    }

    function draw() {
      title.textContent = model.get("title") || "";
      title.hidden = !model.get("title");
      const sim = arr("_sim").values, npmi = arr("_npmi").values;
      const nl = model.get("npmi_line"), sl = model.get("similarity_line");
      const [x0, x1] = domain(sim, [sl], 0, 0), [y0, y1] = domain(npmi, [nl], 0, 1);
      X = (v) => NS_M.left + ((v - x0) / (x1 - x0)) * pw;
      Y = (v) => NS_M.top + (1 - (v - y0) / (y1 - y0)) * ph;
      plot.replaceChildren();
      const grid = svg("g", { class: "saew-ns-grid" }), ticks = svg("g");
      for (const t of niceTicks(x0, x1, 7)) {
        grid.append(svg("line", { x1: X(t), x2: X(t), y1: NS_M.top, y2: NS_M.top + ph }));
        ticks.append(svg("text", { class: "saew-dc-tick", x: X(t), y: NS_M.top + ph + 16, "text-anchor": "middle", text: dcNum(t, 1) }));
      }
      for (const t of niceTicks(y0, y1, 6)) {
        grid.append(svg("line", { x1: NS_M.left, x2: NS_M.left + pw, y1: Y(t), y2: Y(t) }));
        ticks.append(svg("text", { class: "saew-dc-tick", x: NS_M.left - 6, y: Y(t) + 4, "text-anchor": "end", text: dcNum(t, 1) }));
      }
      const region = svg("g", { class: "saew-ns-region" });
      if (nl !== null && nl !== undefined && sl !== null && sl !== undefined) {
        region.append(svg("rect", { class: "saew-ns-zone", x: NS_M.left, y: NS_M.top, width: Math.max(0, X(sl) - NS_M.left),
          height: Math.max(0, Y(nl) - NS_M.top) }));
        region.append(svg("text", { class: "saew-ns-zone-label", x: NS_M.left + 6, y: NS_M.top + 14,
          text: `non-obvious: NPMI > ${nl}, similarity < ${sl}` }));
      }
      if (nl !== null && nl !== undefined) region.append(svg("line", { class: "saew-ns-cut", x1: NS_M.left, x2: NS_M.left + pw, y1: Y(nl), y2: Y(nl) }));
      if (sl !== null && sl !== undefined) region.append(svg("line", { class: "saew-ns-cut", x1: X(sl), x2: X(sl), y1: NS_M.top, y2: NS_M.top + ph }));
      const frame = svg("rect", { class: "saew-ns-frame", x: NS_M.left, y: NS_M.top, width: pw, height: ph });
      const xl = svg("text", { x: NS_M.left + pw / 2, y: NS_H - 6, "text-anchor": "middle", text: "decoder-direction cosine similarity" });
      const yl = svg("text", { transform: `translate(14 ${NS_M.top + ph / 2}) rotate(-90)`, "text-anchor": "middle",
        text: "NPMI (fire in the same documents)" });
      const points = svg("g", { class: "saew-ns-points" });
      px = new Float32Array(n()); py = new Float32Array(n());
      circles = [];
      for (let i = 0; i < n(); i++) {
        px[i] = X(sim[i]); py[i] = Y(npmi[i]);
        const c = svg("circle", { class: "saew-ns-pt", cx: px[i].toFixed(1), cy: py[i].toFixed(1), r: 3.2, "data-i": i });
        circles.push(c);
        points.append(c);
      }
      const brush = svg("rect", { class: "saew-ns-brush", visibility: "hidden" });
      plot.append(grid, region, frame, ticks, xl, yl, points, brush);
      const shown = n(), total = model.get("_n_pairs");
      info.textContent = `${shown} pair(s)${total > shown ? ` of ${total} (the highest NPMI)` : ""}. ` +
        "Drag a rectangle to select pairs; click a point for one pair.";
      markSelected();
    }

    function pairIndex() {
      const xs = arr("_x").values, ys = arr("_y").values, map = new Map();
      for (let i = 0; i < xs.length; i++) map.set(`${xs[i]},${ys[i]}`, i);
      return map;
    }

    function markSelected() {
      const index = pairIndex(), sel = model.get("selected_pairs") || [], on = new Set();
      for (const [a, b] of sel) if (index.has(`${a},${b}`)) on.add(index.get(`${a},${b}`));
      circles.forEach((c, i) => c.classList.toggle("saew-ns-on", on.has(i)));
      const layer = plot.querySelector(".saew-ns-points");
      for (const i of on) layer.append(circles[i]);  // selected points on top
      root.dataset.nSelected = String(on.size);
      const latent = model.get("selected_latent");
      root.dataset.selectedLatent = latent === null || latent === undefined ? "" : String(latent);
      const text = [on.size ? `${on.size} pair(s) selected` : "", latent === null || latent === undefined ? ""
        : `latent ${dcLatentName(labels(), latent)}`].filter(Boolean).join(" · ");
      dcStatus(model, status, text, "widget.selected_pairs / selected_latent", () => {
        model.set("selected_pairs", []); model.set("selected_latent", null); model.save_changes();
      }, "drag a rectangle to select pairs, or click a point");
      drawTable([...on].sort((a, b) => arr("_npmi").values[b] - arr("_npmi").values[a]));
    }

    function pickLatent(id) { model.set("selected_latent", id); model.save_changes(); }

    function drawTable(idx) {
      table.replaceChildren();
      if (!idx.length) return;
      const xs = arr("_x").values, ys = arr("_y").values, npmi = arr("_npmi").values, sim = arr("_sim").values, co = arr("_co").values;
      const latent = model.get("selected_latent");
      const cell = (id) => h("td", {}, dcLatentButton(labels(), id, pickLatent, id === latent ? "saew-dc-on" : ""));
      const body = h("tbody", {}, ...idx.slice(0, NS_TABLE_ROWS).map((i) => h("tr", { "data-i": String(i) },
        cell(xs[i]), cell(ys[i]), h("td", { text: dcNum(npmi[i]) }), h("td", { text: dcNum(sim[i]) }), h("td", { text: String(co[i]) }))));
      table.append(h("table", { class: "saew-dc-table" },
        h("thead", {}, h("tr", {}, ...["latent", "with latent", "NPMI", "cosine", "documents together"].map((t) => h("th", { text: t })))), body));
      if (idx.length > NS_TABLE_ROWS) table.append(h("div", { class: "saew-note", text: `… and ${idx.length - NS_TABLE_ROWS} more (all in widget.selected_pairs)` }));
    }

    function local(e) {  // client -> viewBox coordinates
      const r = plot.getBoundingClientRect();
      return [((e.clientX - r.left) / r.width) * NS_W, ((e.clientY - r.top) / r.height) * NS_H];
    }

    function nearest(x, y, radius) {
      let best = -1, bd = radius * radius;
      for (let i = 0; i < px.length; i++) {
        const d = (px[i] - x) ** 2 + (py[i] - y) ** 2;
        if (d <= bd) { bd = d; best = i; }
      }
      return best;
    }

    function showTip(i) {
      if (i < 0) { tip.hidden = true; return; }
      const xs = arr("_x").values, ys = arr("_y").values;
      tip.replaceChildren(h("div", { class: "saew-ns-tip-name", text: `${dcLatentName(labels(), xs[i])} & ${dcLatentName(labels(), ys[i])}` }),
        h("div", { text: `NPMI ${dcNum(arr("_npmi").values[i])} · cosine ${dcNum(arr("_sim").values[i])}` }),
        h("div", { class: "saew-muted", text: `together in ${arr("_co").values[i]} document(s)` }));
      tip.hidden = false;
      const r = plot.getBoundingClientRect(), s = r.width / NS_W;
      const left = px[i] * s > r.width / 2 ? px[i] * s - tip.offsetWidth - 12 : px[i] * s + 12;
      tip.style.left = `${Math.max(0, left)}px`;
      tip.style.top = `${Math.max(0, py[i] * s - tip.offsetHeight / 2)}px`;
    }

    let drag = null;
    const brushRect = () => plot.querySelector(".saew-ns-brush");
    function onDown(e) {
      if (e.button !== 0) return;
      const [x, y] = local(e);
      drag = { x, y, x1: x, y1: y, id: e.pointerId };
      plot.setPointerCapture(e.pointerId);
      e.preventDefault();
    }
    function onMove(e) {
      const [x, y] = local(e);
      if (!drag) { showTip(nearest(x, y, 8)); return; }
      drag.x1 = x; drag.y1 = y;
      const b = brushRect();
      b.setAttribute("x", Math.min(drag.x, x)); b.setAttribute("y", Math.min(drag.y, y));
      b.setAttribute("width", Math.abs(x - drag.x)); b.setAttribute("height", Math.abs(y - drag.y));
      b.setAttribute("visibility", "visible");
      tip.hidden = true;
    }
    function onUp(e) {
      if (!drag) return;
      const d = drag;
      drag = null;
      if (plot.hasPointerCapture(e.pointerId)) plot.releasePointerCapture(e.pointerId);
      brushRect().setAttribute("visibility", "hidden");
      const xs = arr("_x").values, ys = arr("_y").values;
      if (Math.abs(d.x1 - d.x) < 4 && Math.abs(d.y1 - d.y) < 4) {  // a click: the nearest point, or clear
        const i = nearest(d.x, d.y, 8);
        model.set("selected_pairs", i < 0 ? [] : [[xs[i], ys[i]]]);
        if (i >= 0) model.set("selected_latent", xs[i]);
        model.save_changes();
        return;
      }
      const [lx, hx] = [Math.min(d.x, d.x1), Math.max(d.x, d.x1)], [ly, hy] = [Math.min(d.y, d.y1), Math.max(d.y, d.y1)];
      const picked = [];
      for (let i = 0; i < px.length; i++) if (px[i] >= lx && px[i] <= hx && py[i] >= ly && py[i] <= hy) picked.push([xs[i], ys[i]]);
      model.set("selected_pairs", picked);
      model.save_changes();
    }
    plot.addEventListener("pointerdown", onDown);
    plot.addEventListener("pointermove", onMove);
    plot.addEventListener("pointerup", onUp);
    plot.addEventListener("pointerleave", () => { if (!drag) tip.hidden = true; });

    const events = ["change:_x", "change:_npmi", "change:_sim", "change:npmi_line", "change:similarity_line", "change:title", "change:_labels"];
    const stops = [listen(model, events, draw),
      listen(model, ["change:selected_pairs", "change:selected_latent"], markSelected)];
    draw();
    return () => stops.forEach((stop) => stop());
  },
};
