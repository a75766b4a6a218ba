// RetrievalBox: the query latents with their rank weights, a temperature slider and k (re-run in Python),
// and the ranked documents with their scores. With token data each token is coloured by its weighted
// score sum_r w_r a_r / p90_r (hover: which latents made it); otherwise the plain text. Text: textContent only.

export default {
  render({ model, el }) {
    const arr = dcArrays(model);
    const offline = !!model.get("_offline");
    const root = h("div", { class: "saew-widget saew-dc saew-rb" });
    const title = h("div", { class: "saew-dc-title" });
    const query = h("div", { class: "saew-note saew-rb-query" });
    const chips = h("div", { class: "saew-rb-chips", role: "group", "aria-label": "query latents and their weights" });
    const temp = h("input", { type: "range", class: "saew-rb-temp", min: "0.05", max: "1", step: "0.05", "aria-label": "temperature" });
    const tempValue = h("span", { class: "saew-rb-temp-value" });
    const kInput = h("input", { type: "number", class: "saew-rb-k", min: "1", max: "100", step: "1", "aria-label": "number of documents" });
    const controls = h("div", { class: "saew-row saew-rb-controls" },
      h("label", {}, document.createTextNode("temperature "), temp, tempValue),
      h("label", {}, document.createTextNode("k "), kInput));
    const offlineNote = h("div", { class: "saew-offline-note saew-rb-offline",
      text: "Changing the temperature or k re-runs the retrieval in Python: it needs a running kernel (this page is an offline snapshot)." });
    offlineNote.hidden = !offline;
    const status = h("div", { class: "saew-note saew-rb-status", role: "status" });
    const legend = h("div", { class: "saew-note saew-rb-legend" });
    const list = h("ol", { class: "saew-rb-docs" });
    const selected = h("div", { class: "saew-row saew-dc-status saew-rb-selected" });
    root.append(title, query, chips, controls, offlineNote, status, legend, list, selected);
    el.append(root);
    if (offline) { temp.disabled = true; kInput.disabled = true; }
    const labels = () => model.get("_labels") || {};

    function pickLatent(id) { model.set("selected_latent", id); model.save_changes(); }

    temp.addEventListener("input", () => { tempValue.textContent = ` ${Number(temp.value).toFixed(2)}`; });
    temp.addEventListener("change", () => { model.set("temperature", Number(temp.value)); model.save_changes(); });
    kInput.addEventListener("change", () => {
      const k = Math.max(1, Math.min(100, Math.round(Number(kInput.value)) || 1));
      kInput.value = String(k);
      model.set("k", k);
      model.save_changes();
    });

    function markSelected() {
      const latent = model.get("selected_latent");
      for (const b of root.querySelectorAll(".saew-dc-latent")) b.classList.toggle("saew-dc-on", Number(b.dataset.latent) === latent);
      root.dataset.selectedLatent = latent === null || latent === undefined ? "" : String(latent);
      dcStatus(model, selected, latent === null || latent === undefined ? "" : `selected: latent ${dcLatentName(labels(), latent)}`,
        "widget.selected_latent", () => pickLatent(null), "click a query latent to select it");
    }

    function tokenTitle(row, lat, n, score) {
      const parts = [];
      for (let r = 0; r < n; r++) if (row[r] > 0) parts.push([row[r], lat[r]]);
      parts.sort((a, b) => b[0] - a[0]);
      return `score ${dcNum(score)}` + (parts.length ? ` = ${parts.slice(0, 4).map(([v, id]) => `#${id} ${dcNum(v)}`).join(" + ")}${parts.length > 4 ? " + …" : ""}` : "");
    }

    function draw() {
      title.textContent = model.get("title") || "";
      title.hidden = !model.get("title");
      const lat = arr("_latents").values, w = arr("_weights").values, n = lat.length;
      query.textContent = `Query ${model.get("_query") || ""}: ${n} latent(s) by rank r, weighted w_r = exp(−r / (n·T)).`;
      temp.value = String(model.get("temperature"));
      tempValue.textContent = ` ${Number(model.get("temperature")).toFixed(2)}`;
      kInput.value = String(model.get("k"));
      const wmax = Math.max(...w, 1e-9);
      chips.replaceChildren(...Array.from(lat, (id, r) => h("span", { class: "saew-rb-chip", "data-rank": String(r) },
        dcLatentButton(labels(), id, pickLatent),
        h("span", { class: "saew-rb-wbar", title: `weight ${dcNum(w[r], 3)}` }, h("span", { class: "saew-rb-wfill", style: `width:${(100 * w[r] / wmax).toFixed(1)}%` })),
        h("span", { class: "saew-rb-w", text: dcNum(w[r]) }))));
      status.textContent = model.get("_status") || "";
      status.hidden = !model.get("_status");

      const docs = arr("_docs").values, scores = arr("_scores").values, contrib = arr("_contrib").values;
      const texts = model.get("_texts") || [];
      const offsetsRaw = model.get("_tok_offsets"), hasTokens = !!offsetsRaw;
      const off = hasTokens ? arr("_tok_offsets").values : null, strings = model.get("_tok_strings") || [];
      const tc = hasTokens ? arr("_tok_contrib").values : null;
      let tmax = 0;
      const tokScore = hasTokens ? new Float32Array(strings.length) : null;
      if (hasTokens) {
        for (let t = 0; t < strings.length; t++) {
          let s = 0;
          for (let r = 0; r < n; r++) s += tc[t * n + r];
          tokScore[t] = s;
          if (s > tmax) tmax = s;
        }
      }
      legend.textContent = hasTokens
        ? `A document scores Σ w_r · a_r / p90_r (a_r: its max activation of latent r). Tokens are coloured by the same sum at that token (darkest: ${dcNum(tmax)}); hover one for the latents behind it.`
        : "Plain text: pass sae=, activations= and tokenizer= to RetrievalBox to highlight where the query latents fire.";
      list.replaceChildren();
      docs.forEach((d, j) => {
        const top = [];
        for (let r = 0; r < n; r++) if (contrib[j * n + r] > 0) top.push([contrib[j * n + r], lat[r]]);
        top.sort((a, b) => b[0] - a[0]);
        const why = h("div", { class: "saew-rb-why saew-muted" }, document.createTextNode(top.length ? "from " : ""),
          ...top.slice(0, 5).flatMap(([v, id]) => [dcLatentButton(labels(), id, pickLatent), h("span", { class: "saew-rb-cv", text: ` ${dcNum(v)} ` })]),
          ...(top.length > 5 ? [h("span", { text: `+ ${top.length - 5} more` })] : []),
          ...(top.length ? [] : [h("span", { text: "no query latent fires here" })]));
        let body;
        if (hasTokens && off[j + 1] > off[j]) {
          body = h("div", { class: "saew-rb-text saew-rb-tokens" });
          for (let t = off[j]; t < off[j + 1]; t++) {
            const span = h("span", { class: "saew-rb-tok", "data-t": String(t), text: strings[t] });
            if (tokScore[t] > 0) {
              span.style.background = heat(tokScore[t] / (tmax || 1));
              span.classList.add("saew-rb-hit");
              span.dataset.score = tokScore[t].toFixed(4);
              span.title = tokenTitle(tc.subarray(t * n, t * n + n), lat, n, tokScore[t]);
            }
            body.append(span);
          }
        } else {
          body = h("div", { class: "saew-rb-text", text: texts[j] ?? "" });
        }
        list.append(h("li", { class: "saew-rb-doc", "data-doc": String(d) },
          h("div", { class: "saew-rb-head" }, h("span", { class: "saew-rb-rank", text: `${j + 1}.` }),
            h("span", { class: "saew-rb-docid", text: `doc ${d}` }), h("span", { class: "saew-rb-score", text: `score ${dcNum(scores[j])}` })),
          why, body));
      });
      markSelected();
    }

    const events = ["change:_docs", "change:_latents", "change:_weights", "change:_tok_contrib", "change:_texts",
      "change:_status", "change:k", "change:temperature", "change:_labels", "change:title"];
    const stops = [listen(model, events, draw), listen(model, ["change:selected_latent"], markSelected)];
    draw();
    return () => stops.forEach((stop) => stop());
  },
};
