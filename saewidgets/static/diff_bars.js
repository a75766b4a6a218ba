// DiffBars: one row per latent, a signed bar for (target share - largest other share) of documents it
// fires in, the permutation null as a shaded band ±null behind the bars. Rows beyond the band are solid,
// rows inside it faded. Click a row (or focus it, Enter) to set `selected_latent`; arrows move between rows.

export default {
  render({ model, el }) {
    const arr = dcArrays(model);
    const root = h("div", { class: "saew-widget saew-dc saew-db" });
    const title = h("div", { class: "saew-dc-title" });
    const legend = h("div", { class: "saew-row saew-db-legend saew-note" });
    const head = h("div", { class: "saew-db-grid saew-db-head" });
    const rows = h("div", { class: "saew-db-rows", role: "listbox", "aria-label": "latents by difference in document share" });
    const axis = h("div", { class: "saew-db-grid saew-db-axis saew-note" }, h("div"),
      h("div", { text: "difference in share of documents (percentage points)" }), h("div"));
    const note = h("div", { class: "saew-note saew-dc-note saew-db-note" });
    const status = h("div", { class: "saew-row saew-dc-status saew-db-status", role: "status" });
    root.append(title, legend, head, rows, axis, note, status);
    el.append(root);
    let nodes = new Map();

    const names = () => model.get("corpus_names") || ["target", "other"];
    const others = () => names().slice(1).join(" / ");
    const labels = () => model.get("_labels") || {};

    function select(id) {
      model.set("selected_latent", id);
      model.save_changes();
    }

    function describe(i) {
      const ids = arr("_latents").values, d = arr("_difference").values[i], nul = model.get("null");
      const where = Math.abs(d) > nul ? "beyond" : "inside";
      return `latent ${dcLatentName(labels(), ids[i]).slice(1)}: fires in ${dcPct(arr("_target").values[i])} of ` +
        `${names()[0]} documents and ${dcPct(arr("_others").values[i])} of ${others()}; difference ` +
        `${dcPp(d)}, ${where} the ±${dcPp(nul).replace("+", "")} null band`;
    }

    function markSelected() {
      const sel = model.get("selected_latent");
      for (const [id, node] of nodes) {
        node.classList.toggle("saew-db-selected", id === sel);
        node.setAttribute("aria-selected", id === sel ? "true" : "false");
      }
      root.dataset.selected = sel === null || sel === undefined ? "" : String(sel);
      const ids = Array.from(arr("_latents").values), i = ids.indexOf(sel);
      const text = sel === null || sel === undefined ? "" : i >= 0
        ? `selected: ${dcLatentName(labels(), sel)} · ${dcPct(arr("_target").values[i])} vs ${dcPct(arr("_others").values[i])} (${dcPp(arr("_difference").values[i])})`
        : `selected: ${dcLatentName(labels(), sel)}`;
      dcStatus(model, status, text, "widget.selected_latent", () => select(null),
        "click a bar (or focus it and press Enter) to select that latent");
      const focusTarget = nodes.has(sel) ? sel : ids[0];
      for (const [id, node] of nodes) node.setAttribute("tabindex", id === focusTarget ? "0" : "-1");
    }

    function move(id, key) {
      const ids = Array.from(nodes.keys()), at = ids.indexOf(id);
      const next = key === "ArrowDown" ? ids[Math.min(ids.length - 1, at + 1)] : key === "ArrowUp"
        ? ids[Math.max(0, at - 1)] : key === "Home" ? ids[0] : ids[ids.length - 1];
      for (const [j, node] of nodes) node.setAttribute("tabindex", j === next ? "0" : "-1");
      nodes.get(next).focus();
    }

    function draw() {
      const ids = arr("_latents").values, diff = arr("_difference").values;
      const target = arr("_target").values, other = arr("_others").values, nul = Number(model.get("null")) || 0;
      title.textContent = model.get("title") || "";
      title.hidden = !model.get("title");
      let m = nul;
      for (const d of diff) m = Math.max(m, Math.abs(d));
      m = (m || 0.01) * 1.08;
      const pos = (v) => 50 + (50 * v) / m;

      legend.replaceChildren(
        h("span", { class: "saew-db-key saew-db-key-pos" }), h("span", { text: `more in ${names()[0]}` }),
        h("span", { class: "saew-db-key saew-db-key-neg" }), h("span", { text: `more in ${others()}` }),
        h("span", { class: "saew-db-key saew-db-key-band" }),
        h("span", { text: `permutation null ±${dcPp(nul).replace("+", "")}: faded bars are within noise` }));

      const ticks = h("div", { class: "saew-db-ticks" });
      for (const t of niceTicks(-m, m, 6)) {
        if (Math.abs(t) > m) continue;
        ticks.append(h("span", { class: "saew-db-tick", style: `left:${pos(t).toFixed(2)}%`,
          text: t === 0 ? "0" : dcPp(t).replace(" pp", "").replace(".0", "") }));
      }
      head.replaceChildren(h("div", { class: "saew-muted", text: "latent" }), ticks,
        h("div", { class: "saew-muted saew-db-shares", text: `${names()[0]} vs ${others()}` }));

      rows.replaceChildren();
      nodes = new Map();
      ids.forEach((id, i) => {
        const d = diff[i], beyond = Math.abs(d) > nul;
        const lo = Math.min(pos(0), pos(d)), width = Math.abs(pos(d) - pos(0));
        const bar = h("div", { class: `saew-db-bar ${d >= 0 ? "saew-db-pos" : "saew-db-neg"}`,
          style: `left:${lo.toFixed(2)}%;width:${Math.max(width, 0.3).toFixed(2)}%` });
        const cell = h("div", { class: "saew-db-cell" },
          h("div", { class: "saew-db-band", style: `left:${pos(-nul).toFixed(2)}%;width:${(pos(nul) - pos(-nul)).toFixed(2)}%` }),
          h("div", { class: "saew-db-zero", style: `left:${pos(0).toFixed(2)}%` }), bar);
        const label = labels()[String(id)];
        const name = h("div", { class: "saew-db-name" }, h("span", { class: "saew-db-id", text: `#${id}` }),
          ...(label ? [h("span", { class: "saew-db-label", text: ` ${label}` })] : []));
        const row = h("div", { class: `saew-db-grid saew-db-row ${beyond ? "saew-db-sig" : "saew-db-ns"}`,
          role: "option", tabindex: "-1", "data-latent": String(id), title: describe(i), "aria-label": describe(i) },
        name, cell, h("div", { class: "saew-db-shares", text: `${dcPct(target[i])} vs ${dcPct(other[i])}` }));
        row.addEventListener("click", () => { select(id); row.focus(); });
        row.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(id); }
          else if (e.key === "Escape") { e.preventDefault(); select(null); }
          else if (["ArrowUp", "ArrowDown", "Home", "End"].includes(e.key)) { e.preventDefault(); move(id, e.key); }
        });
        nodes.set(id, row);
        rows.append(row);
      });
      const shown = ids.length, nSig = model.get("_n_significant");
      note.textContent = [`${shown} latents shown; ${nSig} of all ${model.get("_d_sae")} are above the band (more in ${names()[0]}).`,
        model.get("note") || ""].join(" ").trim();
      markSelected();
    }

    const events = ["change:_latents", "change:_difference", "change:null", "change:_labels", "change:corpus_names",
      "change:title", "change:note"];
    const stops = [listen(model, events, draw), listen(model, ["change:selected_latent"], markSelected)];
    draw();
    return () => stops.forEach((stop) => stop());
  },
};
