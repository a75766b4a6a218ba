// ClusterBrowser: one card per cluster -- size, top latents with their inside vs outside share (two thin
// bars), excerpts of the most central documents (corpus text: textContent only). Click a card (or focus it,
// Enter) to set `selected_cluster`; click a latent to set `selected_latent`.

export default {
  render({ model, el }) {
    const arr = dcArrays(model);
    const root = h("div", { class: "saew-widget saew-dc saew-cb" });
    const title = h("div", { class: "saew-dc-title" });
    const info = h("div", { class: "saew-note saew-cb-info" });
    const grid = h("div", { class: "saew-cb-grid", role: "listbox", "aria-label": "clusters" });
    const status = h("div", { class: "saew-row saew-dc-status saew-cb-status", role: "status" });
    root.append(title, info, grid, status);
    el.append(root);
    let cards = new Map();
    const labels = () => model.get("_labels") || {};

    function selectCluster(c) { model.set("selected_cluster", c); model.save_changes(); }
    function selectLatent(id) { model.set("selected_latent", id); model.save_changes(); }

    function shareBars(inside, outside) {
      const bar = (cls, v) => h("div", { class: `saew-cb-share ${cls}` }, h("div", { class: "saew-cb-fill", style: `width:${(100 * Math.max(0, Math.min(1, v))).toFixed(1)}%` }));
      return h("div", { class: "saew-cb-shares", title: `fires in ${dcPct(inside)} of this cluster's documents and ${dcPct(outside)} of the others` },
        bar("saew-cb-in", inside), bar("saew-cb-out", outside));
    }

    function markSelected() {
      const c = model.get("selected_cluster"), latent = model.get("selected_latent");
      for (const [id, card] of cards) {
        card.classList.toggle("saew-cb-selected", id === c);
        card.setAttribute("aria-selected", id === c ? "true" : "false");
      }
      for (const b of grid.querySelectorAll(".saew-dc-latent")) b.classList.toggle("saew-dc-on", Number(b.dataset.latent) === latent);
      root.dataset.selectedCluster = c === null || c === undefined ? "" : String(c);
      root.dataset.selectedLatent = latent === null || latent === undefined ? "" : String(latent);
      const parts = [];
      if (c !== null && c !== undefined) parts.push(`cluster ${c}`);
      if (latent !== null && latent !== undefined) parts.push(`latent ${dcLatentName(labels(), latent)}`);
      dcStatus(model, status, parts.length ? `selected: ${parts.join(" · ")}` : "", "widget.selected_cluster / selected_latent",
        () => { model.set("selected_cluster", null); model.set("selected_latent", null); model.save_changes(); },
        "click a card to select its cluster, a latent to select that latent");
      const ids = [...cards.keys()], focusTarget = cards.has(c) ? c : ids[0];
      for (const [id, card] of cards) card.setAttribute("tabindex", id === focusTarget ? "0" : "-1");
    }

    function draw() {
      title.textContent = model.get("title") || "";
      title.hidden = !model.get("title");
      const ids = arr("_clusters").values, sizes = arr("_sizes").values;
      const lat = arr("_latents"), inside = arr("_inside").values, outside = arr("_outside").values, central = arr("_central");
      const nl = lat.shape[1] || 0, nd = central.shape[1] || 0, excerpts = model.get("_excerpts") || {};
      const total = model.get("_n_docs"), unclustered = model.get("_n_unclustered");
      info.textContent = `${ids.length} clusters of ${total} documents` +
        (unclustered ? `; ${unclustered} document(s) have no active latent among the chosen ones and are in none` : "") +
        ". Latents: share of the cluster's documents they fire in (upper bar) vs the rest's (lower bar).";
      grid.replaceChildren();
      cards = new Map();
      ids.forEach((c, k) => {
        const latents = h("ul", { class: "saew-cb-latents" });
        for (let j = 0; j < nl; j++) {
          const id = lat.values[k * nl + j];
          if (id < 0) continue;
          latents.append(h("li", { class: "saew-cb-latent-row" }, dcLatentButton(labels(), id, selectLatent),
            shareBars(inside[k * nl + j], outside[k * nl + j]),
            h("span", { class: "saew-cb-nums", text: `${dcPct(inside[k * nl + j])} vs ${dcPct(outside[k * nl + j])}` })));
        }
        const docs = h("ol", { class: "saew-cb-docs" });
        for (let j = 0; j < nd; j++) {
          const d = central.values[k * nd + j];
          if (d < 0) continue;
          const text = excerpts[String(d)];
          docs.append(h("li", { class: "saew-cb-doc", "data-doc": String(d) },
            h("span", { class: "saew-cb-docid", text: `doc ${d}` }),
            h("span", { class: "saew-cb-text", text: text === undefined ? " (no text given)" : ` ${text}` })));
        }
        const share = total ? ` (${dcPct(sizes[k] / total)})` : "";
        const card = h("div", { class: "saew-cb-card", role: "option", tabindex: "-1", "data-cluster": String(c),
          "aria-label": `cluster ${c}: ${sizes[k]} documents` },
        h("div", { class: "saew-cb-head" }, h("span", { class: "saew-cb-name", text: `Cluster ${c}` }),
          h("span", { class: "saew-muted", text: `${sizes[k]} docs${share}` })),
        h("div", { class: "saew-cb-sub saew-muted", text: "top latents (in vs out)" }), latents,
        h("div", { class: "saew-cb-sub saew-muted", text: "central documents" }), docs);
        card.addEventListener("click", () => { selectCluster(c); card.focus(); });
        card.addEventListener("keydown", (e) => {
          if (e.target !== card) return;
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selectCluster(c); }
          else if (e.key === "Escape") { e.preventDefault(); selectCluster(null); }
          else if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(e.key)) {
            e.preventDefault();
            const list = [...cards.keys()], at = list.indexOf(c);
            const next = list[Math.max(0, Math.min(list.length - 1, at + (e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 1)))];
            for (const [id, node] of cards) node.setAttribute("tabindex", id === next ? "0" : "-1");
            cards.get(next).focus();
          }
        });
        cards.set(c, card);
        grid.append(card);
      });
      markSelected();
    }

    const events = ["change:_clusters", "change:_latents", "change:_central", "change:_excerpts", "change:_labels", "change:title"];
    const stops = [listen(model, events, draw),
      listen(model, ["change:selected_cluster", "change:selected_latent"], markSelected)];
    draw();
    return () => stops.forEach((stop) => stop());
  },
};
