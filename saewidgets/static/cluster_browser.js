// ClusterBrowser: one card per cluster -- size, top latents with their inside vs outside share (two thin
// bars), excerpts of the most central documents (corpus text: textContent only). Click a card (or focus it,
// Enter) to set `selected_cluster`; click a latent to set `selected_latent`.
//
// Uses from common.js: h, listen, save, arrays, startView;
// from datacentric.js: dcPct, dcLatentName, dcLatentButton, dcStatus.

/**
 * The synced traits (saewidgets/widgets/cluster_browser.py); c clusters, n_latents and n_docs slots each.
 * @typedef {Object} Model
 * @property {number | null} selected_cluster   the card clicked last; set here
 * @property {number | null} selected_latent    the latent clicked last in any card; set here
 * @property {string} title
 * @property {ArrayTrait} _clusters             [c] int32 cluster id of each card
 * @property {ArrayTrait} _sizes                [c] int32 documents in the cluster
 * @property {ArrayTrait} _latents              [c, n_latents] int32 top latents by inside - outside (-1 pads)
 * @property {ArrayTrait} _inside               [c, n_latents] float32 share of the cluster's documents
 * @property {ArrayTrait} _outside              [c, n_latents] float32 share of the other documents
 * @property {ArrayTrait} _central              [c, n_docs] int32 central documents (-1 pads)
 * @property {Object<string, string>} _excerpts "doc id" -> text excerpt of the central documents
 * @property {Object<string, string>} _labels   "latent id" -> label
 * @property {number} _d_sae
 * @property {number} _n_docs
 * @property {number} _n_unclustered           documents with no active chosen latent, in no cluster
 * @property {boolean} [_offline]
 */

const CB_KEYS = ["Enter", " ", "Escape", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"];

/** Two thin bars: the share of the cluster's documents a latent fires in (upper), and of the rest (lower). */
function shareBars(inside, outside) {
  const width = (x) => `width:${(100 * Math.max(0, Math.min(1, x))).toFixed(1)}%`;
  const fill = (x) => h("div", { class: "saew-cb-fill", style: width(x) });
  const bar = (cls, x) => h("div", { class: `saew-cb-share ${cls}` }, fill(x));
  const title = `fires in ${dcPct(inside)} of this cluster's documents and ${dcPct(outside)} of the others`;
  return h("div", { class: "saew-cb-shares", title }, bar("saew-cb-in", inside), bar("saew-cb-out", outside));
}

function buildView(model) {
  const v = { model, arr: arrays(model), cards: new Map() }; // cards: cluster id -> card element
  v.title = h("div", { class: "saew-dc-title" });
  v.info = h("div", { class: "saew-note saew-cb-info" });
  v.grid = h("div", { class: "saew-cb-grid", role: "listbox", "aria-label": "clusters" });
  v.status = h("div", { class: "saew-row saew-dc-status saew-cb-status", role: "status" });
  v.root = h("div", { class: "saew-widget saew-dc saew-cb" }, v.title, v.info, v.grid, v.status);
  return v;
}

/** Card k: its head, its top latents with their share bars, its central documents. */
function drawCard(v, k) {
  const { model, arr } = v;
  const labels = model.get("_labels") || {};
  const [c, size, total] = [arr("_clusters").values[k], arr("_sizes").values[k], model.get("_n_docs")];
  const [lat, central] = [arr("_latents"), arr("_central")];
  const [nl, nd] = [lat.shape[1] || 0, central.shape[1] || 0];
  const latents = h("ul", { class: "saew-cb-latents" });
  for (let j = k * nl; j < (k + 1) * nl; j++) {
    const [id, inside, outside] = [lat.values[j], arr("_inside").values[j], arr("_outside").values[j]];
    if (id < 0) continue;
    const button = dcLatentButton(labels, id, (latent) => save(v.model, { selected_latent: latent }));
    const nums = h("span", { class: "saew-cb-nums", text: `${dcPct(inside)} vs ${dcPct(outside)}` });
    latents.append(h("li", { class: "saew-cb-latent-row" }, button, shareBars(inside, outside), nums));
  }
  const docs = h("ol", { class: "saew-cb-docs" });
  for (const d of central.values.subarray(k * nd, (k + 1) * nd)) {
    if (d < 0) continue;
    const text = (model.get("_excerpts") || {})[String(d)];
    docs.append(
      h(
        "li",
        { class: "saew-cb-doc", "data-doc": String(d) },
        h("span", { class: "saew-cb-docid", text: `doc ${d}` }),
        h("span", { class: "saew-cb-text", text: text === undefined ? " (no text given)" : ` ${text}` }),
      ),
    );
  }
  const share = total ? ` (${dcPct(size / total)})` : "";
  const head = h(
    "div",
    { class: "saew-cb-head" },
    h("span", { class: "saew-cb-name", text: `Cluster ${c}` }),
    h("span", { class: "saew-muted", text: `${size} docs${share}` }),
  );
  const sub = (text) => h("div", { class: "saew-cb-sub saew-muted", text });
  const label = `cluster ${c}: ${size} documents`;
  const attrs = { role: "option", tabindex: "-1", "data-cluster": String(c), "aria-label": label };
  const card = h("div", { class: "saew-cb-card", ...attrs }, head, sub("top latents (in vs out)"), latents);
  card.append(sub("central documents"), docs);
  v.cards.set(c, card);
  return card;
}

function draw(v) {
  const { model, arr } = v;
  v.title.textContent = model.get("title") || "";
  v.title.hidden = !model.get("title");
  const ids = arr("_clusters").values;
  const unclustered = model.get("_n_unclustered");
  const none = `; ${unclustered} document(s) have no active latent among the chosen ones and are in none`;
  v.info.textContent =
    `${ids.length} clusters of ${model.get("_n_docs")} documents${unclustered ? none : ""}` +
    ". Latents: share of the cluster's documents they fire in (upper bar) vs the rest's (lower bar).";
  v.cards = new Map();
  v.grid.replaceChildren(...Array.from(ids, (_, k) => drawCard(v, k)));
  markSelected(v);
}

function markSelected(v) {
  const { model, cards } = v;
  const [c, latent] = [model.get("selected_cluster"), model.get("selected_latent")];
  for (const [id, card] of cards) {
    card.classList.toggle("saew-cb-selected", id === c);
    card.setAttribute("aria-selected", id === c ? "true" : "false");
  }
  for (const b of v.grid.querySelectorAll(".saew-dc-latent")) {
    b.classList.toggle("saew-dc-on", Number(b.dataset.latent) === latent);
  }
  v.root.dataset.selectedCluster = String(c ?? "");
  v.root.dataset.selectedLatent = String(latent ?? "");
  const parts = [];
  if (c !== null && c !== undefined) parts.push(`cluster ${c}`);
  if (latent !== null && latent !== undefined)
    parts.push(`latent ${dcLatentName(model.get("_labels"), latent)}`);
  const text = parts.length ? `selected: ${parts.join(" · ")}` : "";
  const clear = () => save(v.model, { selected_cluster: null, selected_latent: null });
  const hint = "click a card to select its cluster, a latent to select that latent";
  dcStatus(model, v.status, text, "widget.selected_cluster / selected_latent", clear, hint);
  focusable(v, cards.has(c) ? c : [...cards.keys()][0]);
}

/** Roving tabindex: only card `c` is reached by Tab. */
function focusable(v, c) {
  for (const [id, card] of v.cards) card.setAttribute("tabindex", id === c ? "0" : "-1");
}

/** Enter / space selects the card's cluster, Escape clears it, arrows move to the previous / next card. */
function onKey(v, c, e) {
  e.preventDefault();
  if (e.key === "Enter" || e.key === " ") return save(v.model, { selected_cluster: c });
  if (e.key === "Escape") return save(v.model, { selected_cluster: null });
  const list = [...v.cards.keys()];
  const step = e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 1;
  const next = list[Math.max(0, Math.min(list.length - 1, list.indexOf(c) + step))];
  focusable(v, next);
  v.cards.get(next).focus();
}

export default {
  render({ model, el }) {
    startView(model, el);
    const v = buildView(model);
    el.append(v.root);
    // the cards are redrawn with the data: their events are handled here, once, for whichever card they reach
    const cardOf = (e) => e.target.closest && e.target.closest(".saew-cb-card");
    v.grid.addEventListener("click", (e) => {
      const card = cardOf(e);
      if (!card) return;
      save(v.model, { selected_cluster: Number(card.dataset.cluster) });
      card.focus();
    });
    v.grid.addEventListener("keydown", (e) => {
      if (e.target === cardOf(e) && CB_KEYS.includes(e.key)) onKey(v, Number(e.target.dataset.cluster), e);
    });
    const traits = ["_clusters", "_latents", "_central", "_excerpts", "_labels", "title"];
    const events = traits.map((name) => `change:${name}`);
    const stops = [
      listen(model, events, () => draw(v)),
      listen(model, ["change:selected_cluster", "change:selected_latent"], () => markSelected(v)),
    ];
    draw(v);
    return () => stops.forEach((stop) => stop());
  },
};
