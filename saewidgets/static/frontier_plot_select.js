// FrontierPlot's selection, tooltip and keyboard: what happens when a reader hovers, focuses, clicks a
// point or presses a key on it. Concatenated before frontier_plot.js, whose view `v` (buildView) these
// functions take.
//
// Uses from common.js: h, save, num; from frontier_plot.js: points, fronts, archList.

function select(v, i) {
  save(v.model, { selected: i });
  markSelected(v);
}

/** The clear button goes with the selection: pressed from the keyboard (no pointer, e.detail 0), focus
 * goes to the points' tab stop rather than to the page, where the next key would reach Jupyter. */
function clear(v, e) {
  select(v, null);
  if (e.detail === 0) v.nodes.get(v.order[0])?.focus();
}

/** Roving tabindex: only `target` (the selected point, else the first by L0) is reached by Tab. */
function setTabStop(v, target) {
  for (const [i, node] of v.nodes) node.setAttribute("tabindex", i === target ? "0" : "-1");
}

function markSelected(v) {
  const { model } = v;
  const sel = model.get("selected");
  for (const [i, node] of v.nodes) node.classList.toggle("saew-fp-selected", i === sel);
  v.root.dataset.selected = String(sel ?? "");
  const p = sel === null || sel === undefined ? null : points(model)[sel];
  v.status.replaceChildren();
  if (p) {
    const metric = model.get("y_metric");
    const value = num(Number(p[metric]), { digits: 4 });
    const text = `selected: ${p.name ?? sel} (#${sel}) · L0 ${num(Number(p.l0))} · ${metric} ${value}`;
    v.status.append(
      h("span", { class: "saew-fp-selected-text", text }),
      h("button", { class: "saew-fp-clear", text: "clear", onclick: (e) => clear(v, e) }),
    );
    const where = "→ widget.selected_point in Python";
    if (!model.get("_offline")) v.status.append(h("span", { class: "saew-note", text: where }));
  } else {
    const hint = "click a point (or focus it and press Enter) to select that SAE";
    v.status.append(h("span", { class: "saew-muted", text: hint }));
  }
  setTabStop(v, v.nodes.has(sel) ? sel : v.order[0]);
}

function showTip(v, i) {
  const { model, tip, plotBox } = v;
  const p = points(model)[i];
  const metric = model.get("y_metric");
  const four = (x) => num(Number(x), { digits: 4 });
  const onFront = (fronts(model)[p.architecture] || []).includes(i);
  tip.replaceChildren(
    h("div", { class: "saew-fp-tip-name", text: String(p.name ?? `point ${i}`) }),
    h("div", { text: `architecture: ${p.architecture}` }),
    ...(p.knob !== undefined ? [h("div", { text: `${p.knob} = ${four(p.value)}` })] : []),
    h("div", { text: `L0 = ${four(p.l0)}` }),
    h("div", { text: `${metric} = ${four(p[metric])}` }),
    ...(p.d_sae !== undefined ? [h("div", { text: `d_sae = ${p.d_sae}` })] : []),
    h("div", { class: "saew-muted", text: onFront ? "on the Pareto front" : "dominated (off the front)" }),
  );
  tip.hidden = false;
  // away from the point, towards the middle of the plot, so it never covers the point it describes
  const box = plotBox.getBoundingClientRect();
  const r = v.nodes.get(i).getBoundingClientRect();
  const [cx, cy] = [r.left - box.left + r.width / 2, r.top - box.top + r.height / 2];
  const left = cx > box.width / 2 ? cx - tip.offsetWidth - 14 : cx + 14;
  const top = cy > box.height / 2 ? cy - tip.offsetHeight - 10 : cy + 10;
  tip.style.left = `${Math.max(0, Math.min(left, box.width - tip.offsetWidth))}px`;
  tip.style.top = `${Math.max(0, top)}px`;
}

function hideTip(v) {
  v.tip.hidden = true;
}

/** Arrow keys: left / right by L0, up / down to the nearest point of the next architecture; Home, End. */
function move(v, i, key) {
  const { order, nodes } = v;
  const at = order.indexOf(i);
  const xOf = (j) => Number(nodes.get(j).dataset.x);
  let next = { ArrowRight: order[at + 1], ArrowLeft: order[at - 1], Home: order[0], End: order.at(-1) }[key];
  if (key === "ArrowUp" || key === "ArrowDown") {
    const archs = archList(v.model);
    const pts = points(v.model);
    const k = archs.indexOf(pts[i].architecture);
    for (let d = 1; d < archs.length && next === undefined; d++) {
      const target = archs[(k + (key === "ArrowUp" ? d : -d) + archs.length * d) % archs.length];
      const cands = order.filter((j) => pts[j].architecture === target);
      const dist = (j) => Math.abs(xOf(j) - xOf(i));
      if (cands.length) next = cands.reduce((a, b) => (dist(b) < dist(a) ? b : a));
    }
  }
  if (next === undefined || !nodes.has(next)) return;
  setTabStop(v, next);
  nodes.get(next).focus();
}
