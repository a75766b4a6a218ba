// FeatureActivations around its token table: the tooltip (and the keyboard cursor that shows it), the
// activation histogram, the logit effects, the examples (top activations and quantile bands) and the prompt
// box. Concatenated before feature_activations.js, whose view `v` (buildView) these functions take; j is the
// shown latent's index among the candidates (-1: not precomputed).
//
// Uses from common.js: h, svg, quoted, num, heat;
// from feature_activations.js: vocab, candIndex, column, scaleOf, show, count.

const FA_HIST = { W: 300, H: 120, PAD: 22 };

const two = (x) => num(x, { fixed: 2 });

/** The top latents at token `row` (from ids / vals, [rows, k]), the shown one marked. */
function topList(ids, vals, row, cur) {
  const k = ids.shape[1] || 0;
  const out = [];
  for (let i = 0; i < k && ids.values[row * k + i] >= 0; i++) {
    const id = ids.values[row * k + i];
    const value = num(vals.values[row * k + i], { fixed: 2 });
    const cls = id === cur ? "saew-fa-tip-cur" : "";
    out.push(h("div", { class: cls }, h("span", { text: `#${id}` }), h("span", { text: value })));
  }
  return out.length ? out : [h("div", { class: "saew-muted", text: "no latent fires here" })];
}

/** The tooltip of a token span (in the table or the prompt), under it; marks its value on the histogram. */
function showTip(v, target) {
  const [cur, j, arr] = [v.model.get("latent"), candIndex(v), v.arr];
  let text, value, where, top;
  if (target.dataset.prow !== undefined) {
    const [r, acts] = [+target.dataset.prow, arr("_prompt_acts")];
    const m = acts.shape[1] || 0;
    text = (v.model.get("_prompt_tokens") || [])[r] ?? "";
    value = j >= 0 && m ? acts.values[j * m + r] : NaN;
    where = `prompt, token ${r + 1}`;
    top = topList(arr("_prompt_top_ids"), arr("_prompt_top_vals"), r, cur);
  } else {
    const r = +target.dataset.row;
    text = vocab(v)[arr("_tok").values[r]] ?? "";
    value = column(v, j)[r];
    where = `document ${arr("_doc").values[r]}, position ${arr("_pos").values[r]}`;
    top = topList(arr("_top_ids"), arr("_top_vals"), r, cur);
  }
  v.tip.replaceChildren(
    h("div", { class: "saew-fa-tip-tok" }, ...quoted(text)),
    h("div", { class: "saew-fa-tip-val", text: `latent ${cur}: ${num(value, { fixed: 3 })}` }),
    h("div", { class: "saew-muted", text: where }),
    h("div", { class: "saew-fa-tip-h", text: "top latents at this token" }),
    ...top,
  );
  v.tip.hidden = false;
  const [box, rb] = [target.getBoundingClientRect(), v.root.getBoundingClientRect()];
  v.tip.style.left = `${Math.min(box.left - rb.left, Math.max(0, rb.width - 240))}px`;
  v.tip.style.top = `${box.bottom - rb.top + 4}px`;
  markHist(v, value);
}

function hideTip(v) {
  v.tip.hidden = true;
  markHist(v, null);
}

/** Arrow keys walk a cursor over the page's tokens (showing each one's tooltip); Escape leaves. */
function onTokensKey(v, e) {
  if (!["ArrowRight", "ArrowLeft", "Escape"].includes(e.key) || !v.spans.length) return;
  e.preventDefault();
  v.spans[v.cursor]?.classList.remove("saew-fa-cursor");
  if (e.key === "Escape") {
    v.cursor = -1;
    return hideTip(v);
  }
  v.cursor = Math.max(0, Math.min(v.spans.length - 1, v.cursor + (e.key === "ArrowRight" ? 1 : -1)));
  v.spans[v.cursor].classList.add("saew-fa-cursor");
  showTip(v, v.spans[v.cursor]);
}

// ------------------------------------------------- histogram, logit effects, examples, prompt

/** Candidate j's histogram of non-zero activations as SVG bars, with a hidden line markHist moves. */
function drawHist(v, j) {
  const { W, H, PAD } = FA_HIST;
  v.hist.replaceChildren();
  v.histScale = null;
  if (j < 0) return;
  const c = v.arr("_hist_counts");
  const bins = c.shape[1] || 0;
  const edges = v.arr("_hist_edges").values.subarray(j * (bins + 1), (j + 1) * (bins + 1));
  const counts = c.values.subarray(j * bins, (j + 1) * bins);
  const [cmax, lo, hi] = [Math.max(1, ...counts), edges[0], edges[bins]];
  if (!(hi > lo) || counts.every((x) => x === 0)) {
    v.hist.append(h("div", { class: "saew-muted", text: "This latent never fires on these texts." }));
    return;
  }
  const sx = (a) => PAD + ((a - lo) / (hi - lo)) * (W - 2 * PAD);
  const sy = (n) => H - PAD - (n / cmax) * (H - 2 * PAD);
  const label = "histogram of non-zero activations";
  const size = { viewBox: `0 0 ${W} ${H}`, width: W, height: H };
  const s = svg("svg", { ...size, class: "saew-fa-histsvg", role: "img", "aria-label": label });
  for (let i = 0; i < bins; i++) {
    if (!counts[i]) continue;
    const width = Math.max(1, sx(edges[i + 1]) - sx(edges[i]) - 1);
    const [top, height] = [sy(counts[i]), H - PAD - sy(counts[i])];
    const bar = svg("rect", { x: sx(edges[i]), y: top, width, height, class: "saew-fa-bar" });
    bar.append(svg("title", { text: `${two(edges[i])}\u2013${two(edges[i + 1])}: ${counts[i]} tokens` }));
    s.append(bar);
  }
  const text = (x, y, anchor, t) =>
    svg("text", { x, y, "text-anchor": anchor, class: "saew-fa-axtext", text: t });
  const line = svg("line", { y1: PAD - 6, y2: H - PAD, class: "saew-fa-hline", visibility: "hidden" });
  s.append(
    svg("line", { x1: PAD, x2: W - PAD, y1: H - PAD, y2: H - PAD, class: "saew-fa-axis" }),
    text(PAD, H - 6, "start", two(lo)),
    text(W - PAD, H - 6, "end", two(hi)),
    text(PAD, 12, "start", `${count(cmax)} token${cmax === 1 ? "" : "s"} (tallest bar)`),
    line,
  );
  v.hist.append(s);
  v.histScale = { x: sx, hi, line };
}

/** Mark activation `a` (the token under the pointer) on the histogram; null or <= 0 hides the mark. */
function markHist(v, a) {
  const hs = v.histScale;
  if (!hs) return;
  if (a === null || !(a > 0)) return hs.line.setAttribute("visibility", "hidden");
  const xa = hs.x(Math.min(hs.hi, a));
  hs.line.setAttribute("x1", xa);
  hs.line.setAttribute("x2", xa);
  hs.line.setAttribute("visibility", "visible");
}

/** The tokens candidate j's decoder direction promotes and suppresses most (W_dec · W_U), with bars. */
function drawLogits(v, j) {
  v.logits.replaceChildren();
  const [ids, vals] = [v.arr("_logit_ids"), v.arr("_logit_vals")];
  const k = ids.shape[2] || 0;
  v.logitsHead.hidden = !k; // no unembedding (an encoder): no section of zeros, one line saying why
  if (j < 0 || !k) {
    const why = v.model.get("_logits_note");
    const text = why ? `No logit effects: ${why}.` : "No logit effects: no unembedding given.";
    return v.logits.append(h("div", { class: "saew-muted saew-fa-nologits", text }));
  }
  const voc = vocab(v);
  const mine = vals.values.subarray(j * 2 * k, (j + 1) * 2 * k);
  const vmax = Math.max(0, ...Array.from(mine, Math.abs)) || 1;
  for (const [side, name] of [
    [0, "Promoted"],
    [1, "Suppressed"],
  ]) {
    const list = h("div", { class: `saew-fa-loglist saew-fa-${side ? "down" : "up"}` });
    list.append(h("div", { class: "saew-fa-h2", text: name }));
    for (let i = 0; i < k; i++) {
      const [at, x] = [j * 2 * k + side * k + i, mine[side * k + i]];
      list.append(
        h(
          "div",
          { class: "saew-fa-logrow" },
          h("span", { class: "saew-fa-logtok" }, ...quoted(voc[ids.values[at]] ?? "")),
          h("span", { class: "saew-fa-logbar", style: `width: ${((40 * Math.abs(x)) / vmax).toFixed(1)}px` }),
          h("span", { class: "saew-fa-logval", text: two(x) }),
        ),
      );
    }
    v.logits.append(list);
  }
}

/** One example: its value at the centre token, the tokens from start to stop coloured, its document. */
function exampleRow(v, [start, stop, center], col, scale) {
  const [tok, voc] = [v.arr("_tok").values, vocab(v)];
  const body = h("span", { class: "saew-fa-exbody" });
  for (let r = start; r < stop; r++) {
    const cls = "saew-fa-tok" + (r === center ? " saew-fa-center" : "");
    const span = h("span", { class: cls, text: show(voc[tok[r]] ?? "") });
    span.dataset.row = r;
    if (col[r] > 0) span.style.background = heat(col[r] / scale);
    body.append(span);
  }
  const [value, doc] = [two(col[center]), `doc ${v.arr("_doc").values[center]}`];
  return h(
    "div",
    { class: "saew-fa-ex" },
    h("span", { class: "saew-fa-exval", text: value }),
    body,
    h("span", { class: "saew-muted saew-fa-exdoc", text: doc }),
  );
}

/** Candidate j's top activations, then examples from each quantile band of its activations, highest first. */
function drawExamples(v, j) {
  v.examples.replaceChildren();
  if (j < 0) return;
  const e = v.arr("_examples");
  const [n, nTop, nBands] = [e.shape[1] || 0, v.model.get("_n_top"), v.model.get("_n_bands") || 1];
  const [col, scale] = [column(v, j), scaleOf(v, j)];
  const rows = (from, to) => {
    const out = [];
    for (let i = from; i < to; i++) {
      const ex = e.values.subarray((j * n + i) * 3, (j * n + i) * 3 + 3);
      if (ex[0] >= 0) out.push(exampleRow(v, ex, col, scale));
    }
    return out;
  };
  const block = (title) =>
    h("div", { class: "saew-fa-exblock" }, h("div", { class: "saew-fa-h", text: title }));
  const top = block("Top activations");
  top.append(...rows(0, nTop));
  const never = "This latent never fires on these texts.";
  if (top.childNodes.length === 1) top.append(h("div", { class: "saew-muted", text: never }));
  const bands = block("Examples across the activation range");
  const [per, be] = [Math.floor((n - nTop) / nBands), v.arr("_band_edges")];
  const nb = be.shape[1] || 0;
  for (let band = nBands - 1; band >= 0; band--) {
    const found = rows(nTop + band * per, nTop + (band + 1) * per);
    if (!found.length) continue;
    const [lo, hi] = [be.values[j * nb + band], be.values[j * nb + band + 1]];
    const text = `quantile ${band + 1} of ${nBands}: activations ${two(lo)}\u2013${two(hi)}`;
    bands.append(h("div", { class: "saew-fa-band", text }), ...found);
  }
  v.examples.append(top, bands);
}

/** Send the prompt box's text to Python (which runs the model and the SAE on it). */
function submitPrompt(v) {
  const text = v.promptBox.value;
  if (v.offline) {
    v.promptNote.textContent = "Running a prompt needs a Python kernel; this page is an offline snapshot.";
    v.promptNote.classList.add("saew-offline-note");
    return;
  }
  if (!text.trim()) {
    v.promptNote.textContent = "Type some text first.";
    return;
  }
  v.promptNote.textContent = "Running\u2026";
  v.model.send({ type: "prompt", text });
}

/** The prompt's tokens, coloured by candidate j's activation on them. */
function drawPrompt(v, j) {
  const toks = v.model.get("_prompt_tokens") || [];
  v.promptOut.replaceChildren();
  if (!toks.length) return;
  v.promptNote.textContent = v.model.get("_prompt_note") || "";
  const acts = v.arr("_prompt_acts");
  const [m, scale] = [acts.shape[1] || 0, scaleOf(v, j)];
  toks.forEach((t, r) => {
    const span = h("span", { class: "saew-fa-tok", text: show(t) });
    span.dataset.prow = r;
    const a = j >= 0 && m === toks.length ? acts.values[j * m + r] : 0;
    if (a > 0) span.style.background = heat(a / scale);
    v.promptOut.append(span);
  });
}
