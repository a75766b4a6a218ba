// RetrievalBox: the query's latents with their rank weights, a temperature slider and k (re-run in
// Python), and the ranked documents with their scores. With token data each token is coloured by its
// weighted score sum_r w_r a_r / p90_r (hover: which latents made it); otherwise the plain text.
// Text: textContent only.
//
// Uses from common.js: h, listen, save, arrays, num, heat, startView;
// from datacentric.js: dcLatentName, dcLatentButton, dcStatus.

/**
 * The synced traits (saewidgets/widgets/retrieval_box.py); n query latents, k documents, T tokens in all.
 * @typedef {Object} Model
 * @property {number} k                         documents shown; set here (Python re-runs the retrieval)
 * @property {number} temperature               T in w_r = exp(-r / (n T)); set here (Python re-runs)
 * @property {number | null} selected_latent    the query latent clicked last; set here
 * @property {string} title
 * @property {string} _query                    how the query was given, in words
 * @property {ArrayTrait} _latents              [n] int32 query latents by rank
 * @property {ArrayTrait} _weights              [n] float32 w_r
 * @property {ArrayTrait} _docs                 [k] int32 documents, best first
 * @property {ArrayTrait} _scores               [k] float32
 * @property {ArrayTrait} _contrib              [k, n] float32 w_r a_r / p90_r of each shown document
 * @property {string[]} _texts                  [k] plain-text excerpt of each document
 * @property {ArrayTrait | null} _tok_offsets   [k + 1] int32: document j's tokens [o[j], o[j+1]) (or null)
 * @property {string[]} _tok_strings            [T]
 * @property {ArrayTrait} _tok_contrib          [T, n] float32 w_r a_r(token) / p90_r
 * @property {Object<string, string>} _labels   "latent id" -> label
 * @property {number} _d_sae
 * @property {string} _status                   a message from Python
 * @property {boolean} [_offline]
 */

const two = (x) => num(x, { fixed: 2 });

function buildView(model) {
  const v = { model, arr: arrays(model) };
  v.title = h("div", { class: "saew-dc-title" });
  v.query = h("div", { class: "saew-note saew-rb-query" });
  v.chips = h("div", {
    class: "saew-rb-chips",
    role: "group",
    "aria-label": "query latents and their weights",
  });
  const range = { min: "0.05", max: "1", step: "0.05", "aria-label": "temperature" };
  v.temp = h("input", { type: "range", class: "saew-rb-temp", ...range });
  v.tempValue = h("span", { class: "saew-rb-temp-value" });
  const kRange = { min: "1", max: "100", step: "1", "aria-label": "number of documents" };
  v.kInput = h("input", { type: "number", class: "saew-rb-k", ...kRange });
  const controls = h(
    "div",
    { class: "saew-row saew-rb-controls" },
    h("label", {}, "temperature ", v.temp, v.tempValue),
    h("label", {}, "k ", v.kInput),
  );
  const offline = !!model.get("_offline");
  const text =
    "Changing the temperature or k re-runs the retrieval in Python: it needs a running kernel " +
    "(this page is an offline snapshot).";
  const offlineNote = h("div", { class: "saew-offline-note saew-rb-offline", text });
  offlineNote.hidden = !offline;
  v.temp.disabled = v.kInput.disabled = offline;
  v.status = h("div", { class: "saew-note saew-rb-status", role: "status" });
  v.legend = h("div", { class: "saew-note saew-rb-legend" });
  v.list = h("ol", { class: "saew-rb-docs" });
  v.selected = h("div", { class: "saew-row saew-dc-status saew-rb-selected" });
  const parts = [v.title, v.query, v.chips, controls, offlineNote, v.status, v.legend, v.list, v.selected];
  v.root = h("div", { class: "saew-widget saew-dc saew-rb" }, ...parts);
  return v;
}

const pickLatent = (v, id) => save(v.model, { selected_latent: id });

/** A token's hover text: its score and the (up to four) latents that made it. */
function tokenTitle(row, lat, score) {
  const parts = Array.from(row, (x, r) => [x, lat[r]]).filter(([x]) => x > 0);
  parts.sort((a, b) => b[0] - a[0]);
  const sum = parts.slice(0, 4).map(([x, id]) => `#${id} ${two(x)}`);
  if (parts.length > 4) sum.push("…");
  return `score ${two(score)}` + (parts.length ? ` = ${sum.join(" + ")}` : "");
}

/** The query line, one chip per query latent (its weight as a bar), the controls' values and the status. */
function drawQuery(v) {
  const { model, arr } = v;
  const [lat, w] = [arr("_latents").values, arr("_weights").values];
  const n = lat.length;
  const weights = `${n} latent(s) by rank r, weighted w_r = exp(−r / (n·T)).`;
  v.query.textContent = `Query ${model.get("_query") || ""}: ${weights}`;
  v.temp.value = String(model.get("temperature"));
  v.tempValue.textContent = ` ${Number(model.get("temperature")).toFixed(2)}`;
  v.kInput.value = String(model.get("k"));
  const wmax = Math.max(...w, 1e-9);
  const chip = (id, r) => {
    const fill = h("span", { class: "saew-rb-wfill", style: `width:${((100 * w[r]) / wmax).toFixed(1)}%` });
    const bar = h("span", { class: "saew-rb-wbar", title: `weight ${num(w[r], { fixed: 3 })}` }, fill);
    const button = dcLatentButton(model.get("_labels"), id, (latent) => pickLatent(v, latent));
    const value = h("span", { class: "saew-rb-w", text: two(w[r]) });
    return h("span", { class: "saew-rb-chip", "data-rank": String(r) }, button, bar, value);
  };
  v.chips.replaceChildren(...Array.from(lat, chip));
  v.status.textContent = model.get("_status") || "";
  v.status.hidden = !model.get("_status");
}

/** Document j's text: its tokens coloured by score (tokScore, darkest at tmax), or the plain excerpt. */
function docBody(v, j, tokScore, tmax) {
  const { arr, model } = v;
  const off = tokScore ? arr("_tok_offsets").values : null;
  if (!off || !(off[j + 1] > off[j])) {
    return h("div", { class: "saew-rb-text", text: (model.get("_texts") || [])[j] ?? "" });
  }
  const [strings, tc, lat] = [
    model.get("_tok_strings") || [],
    arr("_tok_contrib").values,
    arr("_latents").values,
  ];
  const n = lat.length;
  const body = h("div", { class: "saew-rb-text saew-rb-tokens" });
  for (let t = off[j]; t < off[j + 1]; t++) {
    const span = h("span", { class: "saew-rb-tok", "data-t": String(t), text: strings[t] });
    if (tokScore[t] > 0) {
      span.style.background = heat(tokScore[t] / (tmax || 1));
      span.classList.add("saew-rb-hit");
      span.dataset.score = tokScore[t].toFixed(4);
      span.title = tokenTitle(tc.subarray(t * n, t * n + n), lat, tokScore[t]);
    }
    body.append(span);
  }
  return body;
}

/** Document j: rank, id, score, the latents it was found by, and its text. */
function docItem(v, j, d, tokScore, tmax) {
  const { arr } = v;
  const [lat, contrib] = [arr("_latents").values, arr("_contrib").values];
  const n = lat.length;
  const top = Array.from(lat, (id, r) => [contrib[j * n + r], id]).filter(([x]) => x > 0);
  top.sort((a, b) => b[0] - a[0]);
  const why = h("div", { class: "saew-rb-why saew-muted" }, top.length ? "from " : "");
  for (const [x, id] of top.slice(0, 5)) {
    why.append(dcLatentButton(v.model.get("_labels"), id, (latent) => pickLatent(v, latent)));
    why.append(h("span", { class: "saew-rb-cv", text: ` ${two(x)} ` }));
  }
  if (top.length > 5) why.append(h("span", { text: `+ ${top.length - 5} more` }));
  if (!top.length) why.append(h("span", { text: "no query latent fires here" }));
  const head = h(
    "div",
    { class: "saew-rb-head" },
    h("span", { class: "saew-rb-rank", text: `${j + 1}.` }),
    h("span", { class: "saew-rb-docid", text: `doc ${d}` }),
    h("span", { class: "saew-rb-score", text: `score ${two(arr("_scores").values[j])}` }),
  );
  return h("li", { class: "saew-rb-doc", "data-doc": String(d) }, head, why, docBody(v, j, tokScore, tmax));
}

function draw(v) {
  const { model, arr } = v;
  v.title.textContent = model.get("title") || "";
  v.title.hidden = !model.get("title");
  drawQuery(v);
  const n = arr("_latents").values.length;
  let [tokScore, tmax] = [null, 0]; // each token's score: the sum over the query latents of its contributions
  if (model.get("_tok_offsets")) {
    const tc = arr("_tok_contrib").values;
    tokScore = new Float32Array((model.get("_tok_strings") || []).length);
    for (let t = 0; t < tokScore.length; t++) {
      for (let r = 0; r < n; r++) tokScore[t] += tc[t * n + r];
      tmax = Math.max(tmax, tokScore[t]);
    }
  }
  const score = "A document scores Σ w_r · a_r / p90_r (a_r: its max activation of latent r).";
  const tokens =
    `Tokens are coloured by the same sum at that token (darkest: ${two(tmax)}); ` +
    "hover one for the latents behind it.";
  const plain =
    "Plain text: pass sae=, activations= and tokenizer= to RetrievalBox " +
    "to highlight where the query latents fire.";
  v.legend.textContent = tokScore ? `${score} ${tokens}` : plain;
  v.list.replaceChildren(...Array.from(arr("_docs").values, (d, j) => docItem(v, j, d, tokScore, tmax)));
  markSelected(v);
}

function markSelected(v) {
  const { model, root } = v;
  const latent = model.get("selected_latent");
  for (const b of root.querySelectorAll(".saew-dc-latent")) {
    b.classList.toggle("saew-dc-on", Number(b.dataset.latent) === latent);
  }
  root.dataset.selectedLatent = String(latent ?? "");
  const none = latent === null || latent === undefined;
  const text = none ? "" : `selected: latent ${dcLatentName(model.get("_labels"), latent)}`;
  const hint = "click a query latent to select it";
  dcStatus(model, v.selected, text, "widget.selected_latent", () => pickLatent(v, null), hint);
}

export default {
  render({ model, el }) {
    startView(model, el);
    const v = buildView(model);
    el.append(v.root);
    const { temp, kInput } = v;
    temp.addEventListener("input", () => (v.tempValue.textContent = ` ${Number(temp.value).toFixed(2)}`));
    temp.addEventListener("change", () => save(model, { temperature: Number(temp.value) }));
    kInput.addEventListener("change", () => {
      const k = Math.max(1, Math.min(100, Math.round(Number(kInput.value)) || 1));
      kInput.value = String(k);
      save(model, { k });
    });
    const traits = ["_docs", "_latents", "_weights", "_tok_contrib", "_texts", "_status", "k", "temperature"];
    const events = [...traits, "_labels", "title"].map((name) => `change:${name}`);
    const stops = [
      listen(model, events, () => draw(v)),
      listen(model, ["change:selected_latent"], () => markSelected(v)),
    ];
    draw(v);
    return () => stops.forEach((stop) => stop());
  },
};
