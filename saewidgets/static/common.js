// Helpers shared by every widget's ESM. SaeWidget concatenates this file in front of each widget's own file
// (static_text("common.js", "x.js")), because an anywidget ESM is loaded as one module: there are no imports,
// so each widget file lists at its top the helpers it uses from here.
//
//   DOM        h, svg, quoted
//   model      listen, save
//   start      startView (every render calls it first: keepKeys, hideStaticView)
//   keyboard   keepKeys (keys a widget uses stay out of Jupyter's shortcuts)
//   data       typed, arrays
//   numbers    num (the one number formatter), ticks (the one tick helper)
//   colours    heat (activation ramp), seriesStyle (series colours from Python's _palette.py)

/**
 * An array trait as Python sends it (widgets/_base.py Array): a binary buffer and its shape.
 * @typedef {Object} ArrayTrait
 * @property {number[]} shape
 * @property {"float32" | "int32"} dtype
 * @property {DataView} data
 */
/**
 * The ``_palette`` trait of widgets that draw series (saewidgets/widgets/_palette.py).
 * @typedef {Object} Palette
 * @property {string[]} light                   series colours ("#rrggbb") on light backgrounds, in order
 * @property {string[]} dark                    the same hues, lighter, for dark themes
 * @property {Object<string, string>} markers   architecture -> matplotlib marker name ("o", "X", "^", ...)
 * @property {string[]} marker_cycle            markers for other architectures, by order of appearance
 */

/** An ArrayTrait -> {shape, values: Float32Array | Int32Array}; null -> an empty array. */
function typed(value) {
  if (!value) return { shape: [0], values: new Float32Array(0) };
  const view = value.data;
  const Ctor = value.dtype === "int32" ? Int32Array : Float32Array;
  const values = new Ctor(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
  return { shape: value.shape, values };
}

/** arr(name) -> typed(model.get(name)), decoded once per value: a kernel update (several traits in one
 * message, change events in any order) can never leave a stale decode behind. */
function arrays(model) {
  const cache = {};
  return (name) => {
    const raw = model.get(name);
    if (!cache[name] || cache[name].raw !== raw) cache[name] = { raw, value: typed(raw) };
    return cache[name].value;
  };
}

/** Set traits and send them to Python in one message: save(model, { selected: 3 }). */
function save(model, values) {
  for (const [name, value] of Object.entries(values)) model.set(name, value);
  model.save_changes();
}

/** Call ``handler`` on each of the model's ``events``; returns what undoes it (for render's cleanup). */
function listen(model, events, handler) {
  for (const e of events) model.on(e, handler);
  return () => {
    for (const e of events) model.off(e, handler);
  };
}

/** Create an element; text is always set as textContent, never parsed as HTML (corpus text is untrusted). */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

/**
 * A token between quotes, as JSON writes it ("\n" for a newline), its characters in a <bdi>: a right-to-left
 * override or an RTL word inside the token cannot carry the closing quote (or anything after) with it.
 * Spread into h(): h("span", {}, ...quoted(token)).
 */
function quoted(text) {
  return ['"', h("bdi", { text: JSON.stringify(text).slice(1, -1) }), '"'];
}

/** Keys a form control uses for itself: a slider steps on arrows, PageUp/PageDown, Home/End; a text field
 * moves its caret on them and commits on Enter. */
const CONTROL_KEYS = [
  "ArrowLeft",
  "ArrowRight",
  "ArrowUp",
  "ArrowDown",
  "PageUp",
  "PageDown",
  "Home",
  "End",
  "Enter",
];

/** A keydown a widget keeps: a CONTROL_KEYS key without Ctrl/Meta/Alt (Shift+Enter runs the cell). */
const keptKey = (e) =>
  CONTROL_KEYS.includes(e.key) && !(e.ctrlKey || e.metaKey || e.altKey || (e.shiftKey && e.key === "Enter"));

/**
 * Keep the keys this widget uses away from Jupyter's keyboard shortcuts (call once in render, on ``el``).
 * JupyterLab and Notebook 7 run their command-mode shortcuts for a focused element inside an output
 * (ArrowUp/ArrowDown select another cell, Enter edits one...) from a keydown listener on the document, and
 * call preventDefault: a focused <input type=range> would never step, a text field never commit on Enter.
 * JupyterLab listens in the bubbling phase: a keydown stops at ``el`` when the widget handled it (its own
 * handler called preventDefault: a focused bar, point or token moving on arrows) or when it is a kept key
 * on a form control. Notebook 7 listens in the capture phase, before any element below the document sees
 * the key: there a window capture listener (one per page) marks the focused element inside a widget with
 * Lumino's data-lm-suppress-shortcuts for the duration of a kept key, which makes Lumino skip its
 * shortcuts. Everything else still reaches Jupyter: Tab, Escape, Shift+Enter (run the cell), Ctrl+S, and
 * keys with nothing focused in a widget.
 */
/** What every widget's render does first: keyboard inside Jupyter, and hide the static picture. */
function startView(model, el) {
  keepKeys(el);
  hideStaticView(model);
}

/**
 * A displayed widget leaves a second output, its static picture (widgets/_static_view.py), for pages where
 * this live view cannot run (nbconvert HTML offline, GitHub). Here it runs, so hide that output: one CSS
 * rule per widget in one style element of the document, because the picture's output may arrive after
 * render (the kernel sends it second) and is replaced when the picture is redrawn. The output area goes
 * too where the browser knows :has() (JupyterLab and Notebook 7 use jp-OutputArea-child, the classic
 * notebook output_area); each selector is its own rule so one a browser rejects cannot drop the others.
 */
function hideStaticView(model) {
  const key = model.get("_static_key");
  if (!/^[0-9a-f]{32}$/.test(key ?? "")) return; // an offline page (to_html) has no static twin
  const id = "saew-static-views";
  let style = document.getElementById(id);
  if (!style) {
    style = document.createElement("style");
    style.id = id;
    document.head.append(style);
  }
  const cls = `.saew-static-${key}`;
  if (style.textContent.includes(cls)) return;
  for (const selector of [cls, `.jp-OutputArea-child:has(${cls})`, `.output_area:has(${cls})`])
    style.append(`${selector} { display: none !important; }\n`);
}

function keepKeys(el) {
  el.addEventListener("keydown", (e) => {
    const control = e.target.closest?.("input, select, textarea");
    if (e.defaultPrevented || (control && keptKey(e))) e.stopPropagation();
  });
  if (window.saewKeepKeys) return;
  window.saewKeepKeys = true;
  const mark = "data-lm-suppress-shortcuts";
  const onKey = (e) => {
    const t = e.target;
    if (!t?.closest?.(".saew-widget") || !keptKey(e) || t.hasAttribute(mark)) return;
    t.setAttribute(mark, "");
    setTimeout(() => t.removeAttribute(mark)); // after this keydown's dispatch, Jupyter's included
  };
  window.addEventListener("keydown", onKey, true);
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element; "text" becomes textContent, never markup. */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const NUM_UNITS = [
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "k"],
];

/**
 * The one number formatter: every number a widget prints goes through it. Not finite: "–". Negative: a true
 * minus sign "−" (as matplotlib's axes print it).
 *   num(x)                     3 significant digits, k / M / G from a thousand, an exponent under 1e-4:
 *                              31.5, 0.0483, 1.2k, 4.9M, 3e-5
 *   num(x, { digits: 4 })      the same with 4 significant digits
 *   num(x, { fixed: 2 })       exactly 2 decimals, for values read side by side: 0.83, 12.00
 *   num(x, { fixed: 0, grouped: true })   a count: 100,000
 *   num(x, { signed: true })   a "+" in front of values >= 0 too (a difference, a steering strength)
 */
function num(x, { digits = 3, fixed, grouped = false, signed = false } = {}) {
  if (!Number.isFinite(x)) return "–";
  let s;
  if (fixed !== undefined) {
    const [whole, frac] = Math.abs(x).toFixed(fixed).split(".");
    s = (grouped ? whole.replace(/\B(?=(\d{3})+$)/g, ",") : whole) + (frac ? `.${frac}` : "");
  } else {
    const r = Number(Math.abs(x).toPrecision(digits));
    const unit = NUM_UNITS.find(([u]) => r >= u);
    if (unit) s = `${Number((r / unit[0]).toPrecision(digits))}${unit[1]}`;
    else if (r > 0 && r < 1e-4) s = r.toExponential(digits - 1).replace(/\.?0*e/, "e");
    else s = String(r);
  }
  const negative = x < 0 && /[1-9]/.test(s); // -0.001 at 2 decimals prints 0.00, not −0.00
  return (negative ? "−" : signed ? "+" : "") + s;
}

/**
 * The one tick helper: round-number ticks on [lo, hi] with their labels, [{ value, label }].
 * Linear: steps of 1, 2 or 5 times a power of ten, about ``count`` of them.
 * Log: 1-2-3-5 multiples of each power of ten within a decade, 1-2-5 up to three decades, only the powers
 * of ten beyond (every k-th past seven); linear ticks if that would give fewer than two.
 * Labels: num() with 3 significant digits, more where that would print two ticks alike (a narrow range
 * near 1, ticks 0.9995, 1, 1.0005, would all read "1").
 */
function ticks(lo, hi, { log = false, count = 6 } = {}) {
  const values = [];
  if (log) {
    const decades = Math.log10(hi / lo);
    const mults = decades <= 1 ? [1, 2, 3, 5] : decades <= 3 ? [1, 2, 5] : [1];
    const every = decades > 7 ? Math.ceil(decades / 6) : 1;
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      if (e % every) continue;
      for (const m of mults) {
        const v = m * 10 ** e;
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) values.push(Number(v.toPrecision(6)));
      }
    }
    if (values.length < 2) return ticks(lo, hi, { count: 4 }).filter((t) => t.value > 0);
  } else if (hi > lo) {
    const raw = (hi - lo) / Math.max(1, count);
    const mag = 10 ** Math.floor(Math.log10(raw));
    const r = raw / mag;
    const step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      values.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
    }
  } else {
    values.push(lo);
  }
  for (let digits = 3; digits < 10; digits++) {
    const labels = values.map((v) => num(v, { digits }));
    if (new Set(labels).size === labels.length)
      return values.map((value, i) => ({ value, label: labels[i] }));
  }
  return values.map((value) => ({ value, label: String(value) }));
}

/** Colour for an activation in [0, 1] of the scale: transparent to the theme's accent. */
function heat(t) {
  const a = Math.max(0, Math.min(1, t));
  return `rgba(255, 140, 0, ${(0.85 * a).toFixed(3)})`;
}

/**
 * Inline CSS giving series k (an SAE, an architecture) its colour from the ``_palette`` trait, the one
 * palette defined in Python (saewidgets/widgets/_palette.py: Okabe-Ito, a light and a dark variant of each
 * colour). Put it on an element with class "saew-series"; base.css picks the variant for the theme as
 * var(--saew-series).
 */
function seriesStyle(palette, k) {
  const light = (palette && palette.light) || [];
  const dark = (palette && palette.dark) || light;
  if (!light.length) return "";
  return `--saew-series-light: ${light[k % light.length]}; --saew-series-dark: ${dark[k % dark.length]}`;
}
