// Stands in for the Jupyter widget model in a page written by SaeWidget.to_html(): the same
// get / set / on / off / save_changes / send API over the state frozen into the page, so the
// widget's own ESM renders unchanged with no kernel and no network.
const state = JSON.parse(document.getElementById("saew-state").textContent);
const esm = JSON.parse(document.getElementById("saew-esm").textContent);

function decode(value) {
  if (!value || !value.b64) return value;
  const bin = atob(value.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return { shape: value.shape, dtype: value.dtype, data: new DataView(bytes.buffer) };
}
for (const key of Object.keys(state)) state[key] = decode(state[key]);
state._offline = true;

const listeners = new Map();
const fire = (event) => (listeners.get(event) || []).slice().forEach((cb) => cb());
const model = {
  get: (key) => state[key],
  set: (key, value) => {
    state[key] = value;
    fire("change:" + key);
    fire("change");
  },
  save_changes: () => {},
  on: (event, cb) => listeners.set(event, [...(listeners.get(event) || []), cb]),
  off: (event, cb) => {
    if (!event) return listeners.clear();
    listeners.set(event, cb ? (listeners.get(event) || []).filter((f) => f !== cb) : []);
  },
  send: () => {
    const note = document.createElement("p");
    note.className = "saew-offline-note";
    note.textContent = "This needs a running Python kernel; this page is an offline snapshot.";
    document.getElementById("saew-root").append(note);
  },
};

const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
const widget = (await import(url)).default;
const el = document.getElementById("saew-root");
if (widget.initialize) await widget.initialize({ model });
await widget.render({ model, el });
document.body.dataset.saewReady = "1";
