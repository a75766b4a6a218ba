// Helpers shared by every widget's ESM. Concatenated in front of each widget's own file by
// SaeWidget (static_text("common.js", "x.js")), because an anywidget ESM is loaded as one module.

/** {shape, dtype, data: DataView} from Python -> {shape, values: Float32Array | Int32Array}. */
function typed(value) {
  if (!value) return { shape: [0], values: new Float32Array(0) };
  const view = value.data;
  const Ctor = value.dtype === "int32" ? Int32Array : Float32Array;
  const values = new Ctor(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
  return { shape: value.shape, values };
}

/** Call ``handler`` on each of the model's ``events``; returns what undoes it (for render's cleanup). */
function listen(model, events, handler) {
  for (const e of events) model.on(e, handler);
  return () => { for (const e of events) model.off(e, handler); };
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

/** A round step (1, 2, 5 or 10 times a power of ten) giving about ``count`` intervals over ``span``. */
function niceStep(span, count) {
  const raw = span / Math.max(1, count), mag = 10 ** Math.floor(Math.log10(raw || 1)), r = raw / mag;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

/** Round-number ticks between lo and hi. */
function niceTicks(lo, hi, count = 6) {
  const step = niceStep(hi - lo, count), out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Colour for an activation in [0, 1] of the scale: transparent to the theme's accent. */
function heat(t) {
  const a = Math.max(0, Math.min(1, t));
  return `rgba(255, 140, 0, ${(0.85 * a).toFixed(3)})`;
}

function fmt(x, digits = 3) {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}
