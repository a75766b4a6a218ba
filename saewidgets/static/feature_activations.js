// FeatureActivations: tokens coloured by one SAE latent, hover tooltip, latent picker, examples,
// histogram, logit effects, stats and a prompt box. Arrays come from Python as binary buffers
// (see saewidgets/widgets/feature_activations.py for their shapes). Corpus text is untrusted: it only
// ever goes into textContent (h(..., {text})), never innerHTML.

const int = (x) => Math.round(x).toLocaleString("en-US");
const show = (s) => s.replace(/\n/g, "\u21b5").replace(/\t/g, "\u21e5");

export default {
  render({ model, el }) {
    const t0 = performance.now();
    // decoded arrays, keyed by the value they came from: a kernel update (several traits in one message,
    // change events in any order) can never leave a stale decode behind
    const cache = {};
    const arr = (name) => {
      const raw = model.get(name);
      if (!cache[name] || cache[name].raw !== raw) cache[name] = { raw, value: typed(raw) };
      return cache[name].value;
    };
    const offline = !!model.get("_offline");
    const ui = { page: 0, cursor: -1, pending: null, spans: [], hoverValue: null };

    // ------------------------------------------------------------------ data helpers
    const vocab = () => model.get("_vocab") || [];
    const nTokens = () => arr("_tok").values.length;
    const candidates = () => Array.from(arr("_latents").values);
    const candIndex = () => candidates().indexOf(model.get("latent"));
    let colCache = { j: -2, col: null, raw: null };
    function column(j) {  // dense activations of candidate j over the token table
      const raw = model.get("_act_values");
      if (colCache.j === j && colCache.raw === raw && colCache.col) return colCache.col;
      const col = new Float32Array(nTokens());
      if (j >= 0) {
        const o = arr("_act_offsets").values, rows = arr("_act_rows").values, vals = arr("_act_values").values;
        for (let i = o[j]; i < o[j + 1]; i++) col[rows[i]] = vals[i];
      }
      colCache = { j, col, raw };
      return col;
    }
    const stat = (j) => {
      const s = arr("_stats"); const w = s.shape[1] || 5;
      return j < 0 ? null : { density: s.values[j * w], max: s.values[j * w + 1], mean: s.values[j * w + 2],
        meanNz: s.values[j * w + 3], nnz: s.values[j * w + 4] };
    };
    const scaleOf = (j) => { const s = stat(j); return s && s.max > 0 ? s.max : 1; };

    // ------------------------------------------------------------------ skeleton
    const root = h("div", { class: "saew-widget saew-fa" });
    const title = h("div", { class: "saew-fa-title" });
    const statsLine = h("div", { class: "saew-fa-stats" });
    const input = h("input", { type: "number", min: "0", step: "1", class: "saew-fa-input",
      "aria-label": "latent id", onkeydown: (e) => { if (e.key === "Enter") pick(Number(input.value)); } });
    const go = h("button", { text: "Show", class: "saew-fa-go", onclick: () => pick(Number(input.value)) });
    const status = h("div", { class: "saew-note saew-fa-status", role: "status" });
    const chips = h("div", { class: "saew-fa-chips", role: "group", "aria-label": "top latents in this text" });
    const legend = h("div", { class: "saew-fa-legend" });
    const pager = h("div", { class: "saew-row saew-fa-pager" });
    const tokens = h("div", { class: "saew-fa-tokens", tabindex: "0", "aria-label":
      "tokens coloured by activation; arrow keys move between tokens" });
    const hist = h("div", { class: "saew-fa-hist" });
    const logits = h("div", { class: "saew-fa-logits" });
    const examples = h("div", { class: "saew-fa-examples" });
    const promptBox = h("textarea", { class: "saew-fa-prompt", rows: "2", "aria-label": "prompt text",
      placeholder: "Type a prompt to see which latents fire on each token" });
    const promptNote = h("div", { class: "saew-note saew-fa-prompt-note" });
    const promptOut = h("div", { class: "saew-fa-tokens saew-fa-prompt-tokens" });
    const runPrompt = h("button", { text: "Run prompt", class: "saew-fa-run", onclick: () => submitPrompt() });
    const tip = h("div", { class: "saew-fa-tip", role: "tooltip" });
    tip.hidden = true;

    root.append(
      h("div", { class: "saew-row saew-fa-head" }, title, statsLine),
      h("div", { class: "saew-row" }, h("label", { text: "Latent" }), input, go, status),
      h("div", { class: "saew-fa-chipline" }, h("span", { class: "saew-muted", text: "Top latents in this text:" }), chips),
      h("div", { class: "saew-fa-grid" },
        h("div", { class: "saew-fa-main" }, legend, pager, tokens),
        h("div", { class: "saew-fa-side" }, h("div", { class: "saew-fa-h", text: "Activation histogram (non-zero)" }),
          hist, h("div", { class: "saew-fa-h", text: "Logit effects (W_dec \u00b7 W_U)" }), logits)),
      examples,
      h("div", { class: "saew-fa-promptsec" }, h("div", { class: "saew-fa-h", text: "Your own text" }),
        h("div", { class: "saew-row" }, promptBox, runPrompt), promptNote, promptOut),
      tip);
    el.append(root);

    // ------------------------------------------------------------------ picker
    function pick(v) {
      if (!Number.isFinite(v)) return;
      const dSae = model.get("_d_sae") || Infinity;
      v = Math.max(0, Math.min(dSae - 1, Math.round(v)));
      input.value = String(v);
      if (!candidates().includes(v) && offline) {
        status.textContent = `Latent ${v} was not precomputed in this offline page; computing it needs a ` +
          "Python kernel. Pick one of the precomputed latents below.";
        return;
      }
      status.textContent = candidates().includes(v) ? "" : `Computing latent ${v}\u2026`;
      model.set("latent", v);
      model.save_changes();
    }

    function drawChips() {
      chips.replaceChildren();
      const c = candidates(), cur = model.get("latent");
      const order = c.map((id, j) => j).sort((a, b) => scaleOf(b) - scaleOf(a));
      for (const j of order) {
        const s = stat(j);
        chips.append(h("button", { class: "saew-fa-chip" + (c[j] === cur ? " saew-fa-chip-on" : ""),
          "data-latent": String(c[j]), "aria-pressed": String(c[j] === cur),
          title: `latent ${c[j]}: max ${fmt(s.max, 2)}, density ${fmt(s.density, 4)}`,
          onclick: () => pick(c[j]) }, h("b", { text: `#${c[j]}` }), h("span", { text: ` ${fmt(s.max, 1)}` })));
      }
    }

    // ------------------------------------------------------------------ header + legend
    function drawHead(j) {
      const cur = model.get("latent");
      title.replaceChildren(h("span", { text: "Latent " }), h("b", { text: String(cur) }));
      input.value = String(cur);
      const s = stat(j);
      if (!s) { statsLine.textContent = ""; return; }
      statsLine.replaceChildren(
        h("span", { text: `density ${fmt(100 * s.density, 2)}% (${int(s.nnz)} of ${int(nTokens())} tokens)` }),
        h("span", { text: `max ${fmt(s.max, 2)}` }), h("span", { text: `mean ${fmt(s.mean, 3)}` }),
        h("span", { text: `mean when firing ${fmt(s.meanNz, 2)}` }),
        h("span", { class: "saew-muted", text: `${int(model.get("_n_docs"))} documents` }));
      legend.replaceChildren(h("span", { class: "saew-muted", text: "0" }),
        h("span", { class: "saew-fa-ramp", style: `background: linear-gradient(to right, ${heat(0)}, ${heat(1)})` }),
        h("span", { class: "saew-muted", text: `${fmt(scaleOf(j), 2)} (this latent's max here; larger values are clamped)` }));
    }

    // ------------------------------------------------------------------ tokens, paged
    function drawTokens(j) {
      const n = nTokens(), size = Math.max(1, model.get("_page_size") || 2000);
      const pages = Math.max(1, Math.ceil(n / size));
      ui.page = Math.min(ui.page, pages - 1);
      const a = ui.page * size, b = Math.min(n, a + size);
      pager.replaceChildren();
      if (pages > 1) {
        pager.append(
          h("button", { text: "\u2039 Prev", class: "saew-fa-prev", onclick: () => { ui.page--; drawTokens(candIndex()); },
            ...(ui.page === 0 ? { disabled: "" } : {}) }),
          h("span", { class: "saew-fa-pageinfo", text: `Tokens ${int(a + 1)}\u2013${int(b)} of ${int(n)}` }),
          h("button", { text: "Next \u203a", class: "saew-fa-next", onclick: () => { ui.page++; drawTokens(candIndex()); },
            ...(ui.page >= pages - 1 ? { disabled: "" } : {}) }),
          h("span", { class: "saew-note saew-fa-capnote", text: `Showing ${int(size)} tokens per page so ` +
            `${int(n)} tokens stay responsive.` }));
      }
      const tok = arr("_tok").values, doc = arr("_doc").values, voc = vocab();
      const frag = document.createDocumentFragment();
      const spans = [];
      for (let r = a; r < b; r++) {
        if (r === a || doc[r] !== doc[r - 1]) {
          frag.append(h("div", { class: "saew-fa-doc", text: `document ${doc[r]}` }));
        }
        const span = document.createElement("span");
        span.className = "saew-fa-tok";
        span.dataset.row = r;
        span.textContent = show(voc[tok[r]] ?? "");
        frag.append(span);
        spans.push(span);
      }
      tokens.replaceChildren(frag);
      ui.spans = spans;
      ui.first = a;
      ui.cursor = -1;
      colourTokens(j);
    }
    function colourTokens(j) {
      const col = column(j), scale = scaleOf(j);
      for (const span of ui.spans) {
        const v = col[+span.dataset.row];
        span.style.background = v > 0 ? heat(v / scale) : "";
      }
      for (const span of examples.querySelectorAll("[data-row]")) {
        const v = col[+span.dataset.row];
        span.style.background = v > 0 ? heat(v / scale) : "";
      }
    }

    // ------------------------------------------------------------------ tooltip
    function topList(ids, vals, row, cur) {
      const k = ids.shape[1] || 0, out = [];
      for (let i = 0; i < k; i++) {
        const id = ids.values[row * k + i];
        if (id < 0) break;
        out.push(h("div", { class: id === cur ? "saew-fa-tip-cur" : "" },
          h("span", { text: `#${id}` }), h("span", { text: fmt(vals.values[row * k + i], 2) })));
      }
      return out.length ? out : [h("div", { class: "saew-muted", text: "no latent fires here" })];
    }
    function showTip(target) {
      const cur = model.get("latent"), j = candIndex();
      let text, value, where, top;
      if (target.dataset.prow !== undefined) {
        const r = +target.dataset.prow, acts = arr("_prompt_acts"), m = acts.shape[1] || 0;
        text = (model.get("_prompt_tokens") || [])[r] ?? "";
        value = j >= 0 && m ? acts.values[j * m + r] : NaN;
        where = `prompt, token ${r + 1}`;
        top = topList(arr("_prompt_top_ids"), arr("_prompt_top_vals"), r, cur);
      } else {
        const r = +target.dataset.row;
        text = vocab()[arr("_tok").values[r]] ?? "";
        value = column(j)[r];
        where = `document ${arr("_doc").values[r]}, position ${arr("_pos").values[r]}`;
        top = topList(arr("_top_ids"), arr("_top_vals"), r, cur);
      }
      tip.replaceChildren(h("div", { class: "saew-fa-tip-tok", text: JSON.stringify(text) }),
        h("div", { class: "saew-fa-tip-val", text: `latent ${cur}: ${fmt(value, 3)}` }),
        h("div", { class: "saew-muted", text: where }),
        h("div", { class: "saew-fa-tip-h", text: "top latents at this token" }), ...top);
      tip.hidden = false;
      const box = target.getBoundingClientRect(), rb = root.getBoundingClientRect();
      const left = Math.min(box.left - rb.left, Math.max(0, rb.width - 240));
      tip.style.left = `${left}px`;
      tip.style.top = `${box.bottom - rb.top + 4}px`;
      markHist(value);
    }
    function hideTip() { tip.hidden = true; markHist(null); }
    root.addEventListener("mouseover", (e) => {
      const t = e.target.closest?.("[data-row], [data-prow]");
      if (t && root.contains(t)) showTip(t);
    });
    root.addEventListener("mouseout", (e) => {
      if (e.target.closest?.("[data-row], [data-prow]")) hideTip();
    });
    tokens.addEventListener("keydown", (e) => {
      if (!["ArrowRight", "ArrowLeft", "Escape"].includes(e.key) || !ui.spans.length) return;
      e.preventDefault();
      ui.spans[ui.cursor]?.classList.remove("saew-fa-cursor");
      if (e.key === "Escape") { ui.cursor = -1; hideTip(); return; }
      ui.cursor = Math.max(0, Math.min(ui.spans.length - 1, ui.cursor + (e.key === "ArrowRight" ? 1 : -1)));
      const span = ui.spans[ui.cursor];
      span.classList.add("saew-fa-cursor");
      showTip(span);
    });
    tokens.addEventListener("blur", () => { ui.spans[ui.cursor]?.classList.remove("saew-fa-cursor"); hideTip(); });

    // ------------------------------------------------------------------ histogram (SVG)
    const W = 300, H = 120, PAD = 22;
    let histScale = null;
    function drawHist(j) {
      hist.replaceChildren();
      if (j < 0) return;
      const e = arr("_hist_edges"), c = arr("_hist_counts"), bins = c.shape[1] || 0;
      const edges = e.values.subarray(j * (bins + 1), (j + 1) * (bins + 1));
      const counts = c.values.subarray(j * bins, (j + 1) * bins);
      const cmax = Math.max(1, ...counts), lo = edges[0], hi = edges[bins];
      if (!(hi > lo) || counts.every((x) => x === 0)) {
        hist.append(h("div", { class: "saew-muted", text: "This latent never fires on these texts." }));
        histScale = null;
        return;
      }
      const x = (v) => PAD + ((v - lo) / (hi - lo)) * (W - 2 * PAD), y = (v) => H - PAD - (v / cmax) * (H - 2 * PAD);
      const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "saew-fa-histsvg",
        role: "img", "aria-label": "histogram of non-zero activations" });
      for (let i = 0; i < bins; i++) {
        if (!counts[i]) continue;
        const bar = svg("rect", { x: x(edges[i]), y: y(counts[i]), width: Math.max(1, x(edges[i + 1]) - x(edges[i]) - 1),
          height: H - PAD - y(counts[i]), class: "saew-fa-bar" });
        bar.append(svg("title"));
        bar.firstChild.textContent = `${fmt(edges[i], 2)}\u2013${fmt(edges[i + 1], 2)}: ${counts[i]} tokens`;
        s.append(bar);
      }
      s.append(svg("line", { x1: PAD, x2: W - PAD, y1: H - PAD, y2: H - PAD, class: "saew-fa-axis" }));
      const label = (tx, ty, txt, anchor) => { const t = svg("text", { x: tx, y: ty, "text-anchor": anchor, class: "saew-fa-axtext" }); t.textContent = txt; s.append(t); };
      label(PAD, H - 6, fmt(lo, 2), "start");
      label(W - PAD, H - 6, fmt(hi, 2), "end");
      label(PAD, 12, `${int(cmax)} token${cmax === 1 ? "" : "s"} (tallest bar)`, "start");
      const line = svg("line", { y1: PAD - 6, y2: H - PAD, class: "saew-fa-hline", visibility: "hidden" });
      s.append(line);
      hist.append(s);
      histScale = { x, lo, hi, line };
    }
    function markHist(v) {
      if (!histScale) return;
      if (v === null || !(v > 0)) { histScale.line.setAttribute("visibility", "hidden"); return; }
      const xv = histScale.x(Math.min(histScale.hi, v));
      histScale.line.setAttribute("x1", xv);
      histScale.line.setAttribute("x2", xv);
      histScale.line.setAttribute("visibility", "visible");
    }

    // ------------------------------------------------------------------ logit effects
    function drawLogits(j) {
      logits.replaceChildren();
      const ids = arr("_logit_ids"), vals = arr("_logit_vals"), k = ids.shape[2] || 0;
      if (j < 0 || !k) { logits.append(h("div", { class: "saew-muted", text: "No unembedding given." })); return; }
      const voc = vocab();
      let vmax = 0;
      for (let i = 0; i < 2 * k; i++) vmax = Math.max(vmax, Math.abs(vals.values[j * 2 * k + i]));
      for (const [side, name] of [[0, "Promoted"], [1, "Suppressed"]]) {
        const list = h("div", { class: `saew-fa-loglist saew-fa-${side ? "down" : "up"}` }, h("div", { class: "saew-fa-h2", text: name }));
        for (let i = 0; i < k; i++) {
          const at = j * 2 * k + side * k + i, v = vals.values[at];
          list.append(h("div", { class: "saew-fa-logrow" },
            h("span", { class: "saew-fa-logtok", text: JSON.stringify(voc[ids.values[at]] ?? "") }),
            h("span", { class: "saew-fa-logbar", style: `width: ${(40 * Math.abs(v) / (vmax || 1)).toFixed(1)}px` }),
            h("span", { class: "saew-fa-logval", text: fmt(v, 2) })));
        }
        logits.append(list);
      }
    }

    // ------------------------------------------------------------------ examples
    function exampleRow(j, ex, col, scale) {
      const [a, b, c] = ex;
      const tok = arr("_tok").values, voc = vocab();
      const line = h("div", { class: "saew-fa-ex" }, h("span", { class: "saew-fa-exval", text: fmt(col[c], 2) }));
      const body = h("span", { class: "saew-fa-exbody" });
      for (let r = a; r < b; r++) {
        const span = h("span", { class: "saew-fa-tok" + (r === c ? " saew-fa-center" : ""), text: show(voc[tok[r]] ?? "") });
        span.dataset.row = r;
        if (col[r] > 0) span.style.background = heat(col[r] / scale);
        body.append(span);
      }
      line.append(body, h("span", { class: "saew-muted saew-fa-exdoc", text: `doc ${arr("_doc").values[c]}` }));
      return line;
    }
    function drawExamples(j) {
      examples.replaceChildren();
      if (j < 0) return;
      const e = arr("_examples"), n = e.shape[1] || 0, nTop = model.get("_n_top"), nBands = model.get("_n_bands") || 1;
      const col = column(j), scale = scaleOf(j);
      const get = (i) => Array.from(e.values.subarray((j * n + i) * 3, (j * n + i) * 3 + 3));
      const top = h("div", { class: "saew-fa-exblock" }, h("div", { class: "saew-fa-h", text: "Top activations" }));
      for (let i = 0; i < nTop; i++) { const ex = get(i); if (ex[0] >= 0) top.append(exampleRow(j, ex, col, scale)); }
      if (top.childNodes.length === 1) top.append(h("div", { class: "saew-muted", text: "This latent never fires on these texts." }));
      const bands = h("div", { class: "saew-fa-exblock" }, h("div", { class: "saew-fa-h", text: "Examples across the activation range" }));
      const per = Math.floor((n - nTop) / nBands), be = arr("_band_edges"), nb = be.shape[1] || 0;
      for (let band = nBands - 1; band >= 0; band--) {
        const rows = [];
        for (let i = 0; i < per; i++) { const ex = get(nTop + band * per + i); if (ex[0] >= 0) rows.push(exampleRow(j, ex, col, scale)); }
        if (!rows.length) continue;
        const lo = be.values[j * nb + band], hi = be.values[j * nb + band + 1];
        bands.append(h("div", { class: "saew-fa-band", text: `quantile ${band + 1} of ${nBands}: activations ${fmt(lo, 2)}\u2013${fmt(hi, 2)}` }), ...rows);
      }
      examples.append(top, bands);
    }

    // ------------------------------------------------------------------ prompt
    function submitPrompt() {
      const text = promptBox.value;
      if (offline) {
        promptNote.textContent = "Running a prompt needs a Python kernel; this page is an offline snapshot.";
        promptNote.classList.add("saew-offline-note");
        return;
      }
      if (!text.trim()) { promptNote.textContent = "Type some text first."; return; }
      promptNote.textContent = "Running\u2026";
      model.send({ type: "prompt", text });
    }
    function drawPrompt(j) {
      const toks = model.get("_prompt_tokens") || [];
      promptOut.replaceChildren();
      if (!toks.length) return;
      promptNote.textContent = "";
      const acts = arr("_prompt_acts"), m = acts.shape[1] || 0, scale = scaleOf(j);
      toks.forEach((t, r) => {
        const span = h("span", { class: "saew-fa-tok", text: show(t) });
        span.dataset.prow = r;
        const v = j >= 0 && m === toks.length ? acts.values[j * m + r] : 0;
        if (v > 0) span.style.background = heat(v / scale);
        promptOut.append(span);
      });
    }

    // ------------------------------------------------------------------ wiring
    function drawAll() {
      const j = candIndex();
      drawHead(j);
      drawChips();
      drawTokens(j);
      drawHist(j);
      drawLogits(j);
      drawExamples(j);
      colourTokens(j);
      drawPrompt(j);
      const s = model.get("_status");
      if (s) status.textContent = s;
      else if (j >= 0) status.textContent = "";
    }
    function switchLatent() {  // recolour in place: the token spans stay, only backgrounds change
      const j = candIndex();
      drawHead(j);
      drawChips();
      drawHist(j);
      drawLogits(j);
      drawExamples(j);
      colourTokens(j);
      drawPrompt(j);
      if (j >= 0) status.textContent = "";
    }
    const stops = [];
    const on = (name, cb) => stops.push(listen(model, [name], cb));
    on("change:latent", switchLatent);
    on("change:_latents", switchLatent);
    on("change:_tok", drawAll);
    on("change:_prompt_tokens", () => drawPrompt(candIndex()));
    on("change:_prompt_acts", () => drawPrompt(candIndex()));
    on("change:_status", () => { status.textContent = model.get("_status") || ""; });

    drawAll();
    el.dataset.saewRenderMs = (performance.now() - t0).toFixed(1);
    return () => {
      stops.forEach((stop) => stop());
      el.replaceChildren();
    };
  },
};
