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

/** Colour for an activation in [0, 1] of the scale: transparent to the theme's accent. */
function heat(t) {
  const a = Math.max(0, Math.min(1, t));
  return `rgba(255, 140, 0, ${(0.85 * a).toFixed(3)})`;
}

function fmt(x, digits = 3) {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}
