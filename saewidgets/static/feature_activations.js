// FeatureActivations: tokens coloured by one SAE latent, hover tooltip, latent picker, examples,
// histogram, logit effects, stats and a prompt box. Arrays come from Python as binary buffers (their
// shapes below). Corpus text is untrusted: it only ever goes into textContent (h(..., {text})), never
// innerHTML.
//
// Uses from common.js: h, listen, save, arrays, num, heat, startView;
// from feature_activations_panels.js (tooltip, histogram, logit effects, examples, prompt): showTip, hideTip,
// onTokensKey, drawHist, drawLogits, drawExamples, drawPrompt, submitPrompt.

/**
 * The synced traits (saewidgets/widgets/feature_activations.py). n tokens in the token table, c candidate
 * latents (the ones precomputed), m prompt tokens.
 * @typedef {Object} Model
 * @property {number} latent               the latent shown; set here by the picker
 * @property {string} prompt
 * @property {number} _d_sae
 * @property {number} _n_docs
 * @property {number} _page_size           tokens per page
 * @property {number} _n_top               _examples[:, :n_top] are top activations, the rest quantile bands
 * @property {number} _n_bands
 * @property {string[]} _vocab             distinct token strings; _tok and _logit_ids index it
 * @property {ArrayTrait} _tok             [n] int32 index into _vocab
 * @property {ArrayTrait} _doc             [n] int32 document of each row
 * @property {ArrayTrait} _pos             [n] int32 position in BOS + document
 * @property {ArrayTrait} _top_ids         [n, 5] int32 top latents at each token (-1: none)
 * @property {ArrayTrait} _top_vals        [n, 5] float32
 * @property {ArrayTrait} _latents         [c] int32 candidate latents
 * @property {ArrayTrait} _act_offsets     [c + 1] int32: candidate j's are _act_rows/values[o[j]:o[j+1]]
 * @property {ArrayTrait} _act_rows        [nnz] int32
 * @property {ArrayTrait} _act_values      [nnz] float32
 * @property {ArrayTrait} _examples        [c, n_top + n_bands * per_band, 3] int32 (start, stop, center) rows
 * @property {ArrayTrait} _band_edges      [c, n_bands + 1] float32
 * @property {ArrayTrait} _hist_edges      [c, bins + 1] float32
 * @property {ArrayTrait} _hist_counts     [c, bins] int32
 * @property {ArrayTrait} _stats           [c, 5] float32 density, max, mean, mean_nonzero, n_nonzero
 * @property {ArrayTrait} _logit_ids       [c, 2, k] int32 index into _vocab (row 0 promoted, 1 suppressed)
 * @property {ArrayTrait} _logit_vals      [c, 2, k] float32
 * @property {string[]} _prompt_tokens     [m]
 * @property {ArrayTrait} _prompt_top_ids  [m, 5] int32
 * @property {ArrayTrait} _prompt_top_vals [m, 5] float32
 * @property {ArrayTrait} _prompt_acts     [c, m] float32 each candidate's activation on the prompt
 * @property {boolean} _has_model           built from a model: the prompt box is shown (hidden otherwise)
 * @property {string} _logits_note          why there are no logit effects (an encoder); the section is hidden
 * @property {string} _status              a message from Python (errors, "computing")
 * @property {string} _note                what was left out (from_sae's token cap), shown above the tokens
 * @property {string} _prompt_note         what was left out of the prompt (the model's context)
 * @property {boolean} [_offline]
 */

const count = (x) => num(x, { fixed: 0, grouped: true });
/** A token as text, with newlines and tabs made visible. */
const show = (s) => s.replace(/\n/g, "\u21b5").replace(/\t/g, "\u21e5");

// ------------------------------------------------------------------ reading the model

const vocab = (v) => v.model.get("_vocab") || [];
const nTokens = (v) => v.arr("_tok").values.length;
const candidates = (v) => Array.from(v.arr("_latents").values);
/** The shown latent's index among the candidates; -1: not precomputed (yet). */
const candIndex = (v) => candidates(v).indexOf(v.model.get("latent"));

/** Candidate j's activations over the token table, dense (the last one asked for is kept). */
function column(v, j) {
  const raw = v.model.get("_act_values");
  if (v.col && v.col.j === j && v.col.raw === raw) return v.col.values;
  const values = new Float32Array(nTokens(v));
  if (j >= 0) {
    const [o, rows, vals] = ["_act_offsets", "_act_rows", "_act_values"].map((name) => v.arr(name).values);
    for (let i = o[j]; i < o[j + 1]; i++) values[rows[i]] = vals[i];
  }
  v.col = { j, raw, values };
  return values;
}

function stat(v, j) {
  const s = v.arr("_stats");
  const w = s.shape[1] || 5;
  if (j < 0) return null;
  const [density, max, mean, meanNz, nnz] = s.values.subarray(j * w, j * w + 5);
  return { density, max, mean, meanNz, nnz };
}

/** The activation that gets the full colour: candidate j's max here (1 if it never fires). */
function scaleOf(v, j) {
  const s = stat(v, j);
  return s && s.max > 0 ? s.max : 1;
}

// ------------------------------------------------------------------ drawing

function buildView(model) {
  const v = { model, arr: arrays(model), offline: !!model.get("_offline"), page: 0, cursor: -1, spans: [] };
  v.title = h("div", { class: "saew-fa-title" });
  v.statsLine = h("div", { class: "saew-fa-stats" });
  v.input = h("input", {
    type: "number",
    min: "0",
    step: "1",
    class: "saew-fa-input",
    "aria-label": "latent id",
  });
  v.go = h("button", { text: "Show", class: "saew-fa-go" });
  v.status = h("div", { class: "saew-note saew-fa-status", role: "status" });
  v.chips = h("div", { class: "saew-fa-chips", role: "group", "aria-label": "top latents in this text" });
  v.legend = h("div", { class: "saew-fa-legend" });
  v.pager = h("div", { class: "saew-row saew-fa-pager" });
  const keys = "tokens coloured by activation; arrow keys move between tokens";
  v.tokens = h("div", { class: "saew-fa-tokens", tabindex: "0", "aria-label": keys });
  v.hist = h("div", { class: "saew-fa-hist" });
  v.logits = h("div", { class: "saew-fa-logits" });
  v.examples = h("div", { class: "saew-fa-examples" });
  const placeholder = "Type a prompt to see which latents fire on each token";
  v.promptBox = h("textarea", {
    class: "saew-fa-prompt",
    rows: "2",
    "aria-label": "prompt text",
    placeholder,
  });
  v.promptNote = h("div", { class: "saew-note saew-fa-prompt-note" });
  v.promptOut = h("div", { class: "saew-fa-tokens saew-fa-prompt-tokens" });
  v.runPrompt = h("button", { text: "Run prompt", class: "saew-fa-run" });
  v.tip = h("div", { class: "saew-fa-tip", role: "tooltip" });
  v.tip.hidden = true;
  const heading = (text) => h("div", { class: "saew-fa-h", text });
  const chipLabel = h("span", { class: "saew-muted", text: "Top latents in this text:" });
  const side = h("div", { class: "saew-fa-side" }, heading("Activation histogram (non-zero)"), v.hist);
  v.logitsHead = heading("Logit effects (W_dec \u00b7 W_U)");
  side.append(v.logitsHead, v.logits);
  const prompt = h("div", { class: "saew-fa-promptsec" }, heading("Your own text"));
  prompt.append(h("div", { class: "saew-row" }, v.promptBox, v.runPrompt), v.promptNote, v.promptOut);
  prompt.hidden = !model.get("_has_model"); // no model behind the widget: nothing could run a prompt
  v.root = h(
    "div",
    { class: "saew-widget saew-fa" },
    h("div", { class: "saew-row saew-fa-head" }, v.title, v.statsLine),
    h("div", { class: "saew-row" }, h("label", { text: "Latent" }), v.input, v.go, v.status),
    h("div", { class: "saew-note saew-fa-cap", text: model.get("_note") || "" }),
    h("div", { class: "saew-fa-chipline" }, chipLabel, v.chips),
    h(
      "div",
      { class: "saew-fa-grid" },
      h("div", { class: "saew-fa-main" }, v.legend, v.pager, v.tokens),
      side,
    ),
    v.examples,
    prompt,
    v.tip,
  );
  return v;
}

/** Show latent `id` (clamped to the SAE): at once if precomputed, else after Python computes it. */
function pick(v, id) {
  if (!Number.isFinite(id)) return;
  id = Math.max(0, Math.min((v.model.get("_d_sae") || Infinity) - 1, Math.round(id)));
  v.input.value = String(id);
  const known = candidates(v).includes(id);
  if (!known && v.offline) {
    v.status.textContent =
      `Latent ${id} was not precomputed in this offline page; computing it needs a Python kernel. ` +
      "Pick one of the precomputed latents below.";
    return;
  }
  v.status.textContent = known ? "" : `Computing latent ${id}\u2026`;
  save(v.model, { latent: id });
}

/** One chip per candidate, the strongest first. */
function drawChips(v) {
  const c = candidates(v);
  const cur = v.model.get("latent");
  const order = c.map((id, j) => j).sort((a, b) => scaleOf(v, b) - scaleOf(v, a));
  const focused = v.chips.contains(document.activeElement) && document.activeElement.dataset.latent;
  v.chips.replaceChildren(
    ...order.map((j) => {
      const s = stat(v, j);
      const [max, density] = [num(s.max, { fixed: 2 }), num(s.density, { fixed: 4 })];
      const title = `latent ${c[j]}: max ${max}, density ${density}`;
      const attrs = { "data-latent": String(c[j]), "aria-pressed": String(c[j] === cur), title };
      const chip = h("button", {
        class: "saew-fa-chip" + (c[j] === cur ? " saew-fa-chip-on" : ""),
        ...attrs,
      });
      chip.append(h("b", { text: `#${c[j]}` }), h("span", { text: ` ${num(s.max, { fixed: 1 })}` }));
      return chip;
    }),
  );
  if (focused) v.chips.querySelector(`[data-latent="${focused}"]`)?.focus(); // the keyboard stays on it
}

/** The title, the latent's stats, and the colour legend. */
function drawHead(v, j) {
  const cur = v.model.get("latent");
  v.title.replaceChildren(h("span", { text: "Latent " }), h("b", { text: String(cur) }));
  v.input.value = String(cur);
  const s = stat(v, j);
  if (!s) {
    v.statsLine.textContent = "";
    return;
  }
  const two = (x) => num(x, { fixed: 2 });
  v.statsLine.replaceChildren(
    h("span", { text: `density ${two(100 * s.density)}% (${count(s.nnz)} of ${count(nTokens(v))} tokens)` }),
    h("span", { text: `max ${two(s.max)}` }),
    h("span", { text: `mean ${num(s.mean, { fixed: 3 })}` }),
    h("span", { text: `mean when firing ${two(s.meanNz)}` }),
    h("span", { class: "saew-muted", text: `${count(v.model.get("_n_docs"))} documents` }),
  );
  const ramp = `background: linear-gradient(to right, ${heat(0)}, ${heat(1)})`;
  v.legend.replaceChildren(
    h("span", { class: "saew-muted", text: "0" }),
    h("span", { class: "saew-fa-ramp", style: ramp }),
    h("span", {
      class: "saew-muted",
      text: `${two(scaleOf(v, j))} (this latent's max here; larger values are clamped)`,
    }),
  );
}

/** The page of the token table being read: its pager, a heading per document, one span per token. */
function drawTokens(v, j) {
  const n = nTokens(v);
  const size = Math.max(1, v.model.get("_page_size") || 2000);
  const pages = Math.max(1, Math.ceil(n / size));
  v.page = Math.min(v.page, pages - 1);
  const [a, b] = [v.page * size, Math.min(n, (v.page + 1) * size)];
  v.pager.replaceChildren();
  if (pages > 1) {
    const turn = (text, cls, step, off) => {
      const button = h("button", { text, class: cls, "data-step": step });
      button.disabled = off;
      return button;
    };
    const cap = `Showing ${count(size)} tokens per page so ${count(n)} tokens stay responsive.`;
    v.pager.append(
      turn("\u2039 Prev", "saew-fa-prev", -1, v.page === 0),
      h("span", {
        class: "saew-fa-pageinfo",
        text: `Tokens ${count(a + 1)}\u2013${count(b)} of ${count(n)}`,
      }),
      turn("Next \u203a", "saew-fa-next", 1, v.page >= pages - 1),
      h("span", { class: "saew-note saew-fa-capnote", text: cap }),
    );
  }
  const [tok, doc, voc] = [v.arr("_tok").values, v.arr("_doc").values, vocab(v)];
  const frag = document.createDocumentFragment();
  v.spans = [];
  for (let r = a; r < b; r++) {
    if (r === a || doc[r] !== doc[r - 1])
      frag.append(h("div", { class: "saew-fa-doc", text: `document ${doc[r]}` }));
    const span = h("span", { class: "saew-fa-tok", text: show(voc[tok[r]] ?? "") });
    span.dataset.row = r;
    frag.append(span);
    v.spans.push(span);
  }
  v.tokens.replaceChildren(frag);
  v.cursor = -1;
  colourTokens(v, j);
}

/** Recolour every token span on the page and in the examples for candidate j. */
function colourTokens(v, j) {
  const [col, scale] = [column(v, j), scaleOf(v, j)];
  for (const span of [...v.spans, ...v.examples.querySelectorAll("[data-row]")]) {
    const x = col[+span.dataset.row];
    span.style.background = x > 0 ? heat(x / scale) : "";
  }
}

// ------------------------------------------------------------------ wiring

/** Everything that depends on the shown latent; the token spans are redrawn only if `tokens`. */
function drawLatent(v, tokens) {
  const j = candIndex(v);
  drawHead(v, j);
  drawChips(v);
  if (tokens) drawTokens(v, j);
  drawHist(v, j);
  drawLogits(v, j);
  drawExamples(v, j);
  colourTokens(v, j);
  drawPrompt(v, j);
  if (tokens && v.model.get("_status")) v.status.textContent = v.model.get("_status");
  else if (j >= 0) v.status.textContent = "";
}

export default {
  render({ model, el }) {
    startView(model, el);
    const t0 = performance.now();
    const v = buildView(model);
    el.append(v.root);
    v.input.addEventListener("keydown", (e) => e.key === "Enter" && pick(v, Number(v.input.value)));
    v.go.addEventListener("click", () => pick(v, Number(v.input.value)));
    v.chips.addEventListener("click", (e) => {
      const chip = e.target.closest(".saew-fa-chip");
      if (chip) pick(v, Number(chip.dataset.latent));
    });
    v.pager.addEventListener("click", (e) => {
      const button = e.target.closest("[data-step]");
      if (!button) return;
      const focused = button === document.activeElement;
      v.page += Number(button.dataset.step);
      drawTokens(v, candIndex(v)); // a new pager: keep the keyboard on it (on Prev once Next is off)
      const same = v.pager.querySelector(`[data-step="${button.dataset.step}"]:enabled`);
      if (focused) (same ?? v.pager.querySelector("[data-step]:enabled"))?.focus();
    });
    v.runPrompt.addEventListener("click", () => submitPrompt(v));
    // tooltips for every token span (table, examples, prompt), however often they are redrawn
    v.root.addEventListener("mouseover", (e) => {
      const t = e.target.closest?.("[data-row], [data-prow]");
      if (t && v.root.contains(t)) showTip(v, t);
    });
    v.root.addEventListener("mouseout", (e) => e.target.closest?.("[data-row], [data-prow]") && hideTip(v));
    v.tokens.addEventListener("keydown", (e) => onTokensKey(v, e));
    v.tokens.addEventListener("blur", () => {
      v.spans[v.cursor]?.classList.remove("saew-fa-cursor");
      hideTip(v);
    });
    const stops = [
      listen(model, ["change:latent", "change:_latents"], () => drawLatent(v, false)), // recolour in place
      listen(model, ["change:_tok"], () => drawLatent(v, true)),
      listen(model, ["change:_prompt_tokens", "change:_prompt_acts"], () => drawPrompt(v, candIndex(v))),
      listen(model, ["change:_status"], () => (v.status.textContent = model.get("_status") || "")),
    ];
    drawLatent(v, true);
    el.dataset.saewRenderMs = (performance.now() - t0).toFixed(1);
    return () => {
      stops.forEach((stop) => stop());
      el.replaceChildren();
    };
  },
};
