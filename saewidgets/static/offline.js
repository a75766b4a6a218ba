// Stands in for the Jupyter widget model in a page written by SaeWidget.to_html() or render_document():
// the same get / set / on / off / save_changes / send API over the state frozen into the page, so each
// widget's own ESM renders unchanged with no kernel and no network.
//
// A page holds one or more containers marked data-saew-widget; each names the inert JSON script element
// holding its state (data-saew-state) and its ESM (data-saew-esm). Widgets of one class share one ESM
// script, which is imported once (as Jupyter does). One widget failing shows its error in its own container
// and leaves the others running. When every container is done, body[data-saew-ready="1"] tells tests (and
// people) so.

function decode(value) {
  if (!value || !value.b64) return value;
  const bin = atob(value.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return { shape: value.shape, dtype: value.dtype, data: new DataView(bytes.buffer) };
}

const readJSON = (id) => JSON.parse(document.getElementById(id).textContent);

function makeModel(state, el) {
  const listeners = new Map();
  const fire = (event) => (listeners.get(event) || []).slice().forEach((cb) => cb());
  return {
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
      if (el.querySelector(":scope > .saew-offline-note")) return; // said once per widget is enough
      const note = document.createElement("p");
      note.className = "saew-offline-note";
      note.textContent = "This needs a running Python kernel; this page is an offline snapshot.";
      el.append(note);
    },
  };
}

const modules = new Map(); // ESM script id -> Promise of the module's default export
function load(esmId) {
  if (!modules.has(esmId)) {
    const url = URL.createObjectURL(new Blob([readJSON(esmId)], { type: "text/javascript" }));
    modules.set(
      esmId,
      import(url).then((m) => m.default),
    );
  }
  return modules.get(esmId);
}

async function mount(el) {
  const state = readJSON(el.dataset.saewState);
  for (const key of Object.keys(state)) state[key] = decode(state[key]);
  state._offline = true;
  const model = makeModel(state, el);
  el.saewModel = model; // lets the page's own script, a test or a person in devtools drive the widget
  try {
    const widget = await load(el.dataset.saewEsm);
    if (widget.initialize) await widget.initialize({ model });
    await widget.render({ model, el });
    el.dataset.saewReady = "1";
  } catch (err) {
    el.dataset.saewReady = "error";
    const note = document.createElement("p");
    note.className = "saew-offline-note saew-error";
    note.textContent = `This widget could not be drawn: ${err}`;
    el.append(note);
    console.error(err);
  }
}

await Promise.all([...document.querySelectorAll("[data-saew-widget]")].map(mount));
document.body.dataset.saewReady = "1";
