// SteeringPanel: one signed slider per latent; unsteered | steered text side by side.
// One request in flight at a time: while the kernel generates, slider moves only update `pending`,
// and the latest value is sent when the answer arrives, so no backlog builds.
//
// Uses from common.js: h, listen, save, num, startView.

/**
 * The synced traits (saewidgets/widgets/steering_panel.py); L latents.
 * @typedef {Object} Model
 * @property {string} prompt
 * @property {number[]} latents          [L] latent ids, one slider each
 * @property {string[]} labels           [L] their names
 * @property {number[]} available        every latent passed; the picker gives sliders to at most max_sliders
 * @property {string[]} available_labels their names
 * @property {number} max_sliders
 * @property {number[]} strengths        [L] in units of each latent's typical max activation; set here
 * @property {"add" | "clamp"} mode
 * @property {number} temperature
 * @property {number} max_new_tokens
 * @property {number} seed
 * @property {string} unsteered          the text generated without steering
 * @property {string} steered            the text generated with it (same seed)
 * @property {boolean} busy              a generation is running in Python
 * @property {number} generations        steered generations run so far: the browser waits for it to change
 * @property {{values: number[], texts: string[][], unsteered: string}} _grid  offline page: strengths
 *     precomputed one latent at a time, texts[latent][value]
 * @property {boolean} [_offline]
 */

/** One slider per latent: through `values` (offline, a grid), else over -5..5 (fixed there if `fixed`).
 * `remove(id)`: a button that takes the latent's slider away (the picker can give it back). */
function buildSliders(model, values, fixed, remove) {
  const labels = model.get("labels");
  return model.get("latents").map((id, j) => {
    const out = h("output", { class: "saew-steer-value" });
    const input = h("input", {
      type: "range",
      class: "saew-steer-slider",
      "aria-label": `strength of ${labels[j]}`,
    });
    if (values) Object.assign(input, { min: 0, max: values.length - 1, step: 1, value: values.indexOf(0) });
    else
      Object.assign(input, { min: -5, max: 5, step: 0.1, value: model.get("strengths")[j], disabled: fixed });
    const strength = () => (values ? values[Number(input.value)] : Number(input.value));
    const show = () => (out.textContent = `${num(strength(), { fixed: 1, signed: true })} × typical max`);
    show();
    const name = h("span", { class: "saew-steer-label", text: labels[j] });
    const row = h("div", { class: "saew-row saew-steer-latent" }, name, input, out);
    if (remove) {
      const x = h("button", { type: "button", class: "saew-steer-remove", text: "×" });
      x.setAttribute("aria-label", `remove the slider of ${labels[j]}`);
      x.addEventListener("click", () => remove(id));
      row.append(x);
    }
    return { id, input, strength, show, row };
  });
}

function buildView(model) {
  const grid = model.get("_grid") || {};
  const offline = Boolean(model.get("_offline"));
  // Offline with a grid (to_html, the demo's report): sliders step through it. Offline without one (a
  // notebook's saved widget state, as on the docs site): the kernel's last generation, sliders fixed there.
  const snapshot = offline && !(grid.values && grid.values.length);
  const values = offline && !snapshot ? grid.values : null;
  const v = { model, grid, offline, values, snapshot, inFlight: false, pending: null, toldOffline: false };
  v.status = h("span", { class: "saew-steer-status saew-muted", role: "status" });
  v.prompt = h("input", { type: "text", class: "saew-steer-prompt", "aria-label": "prompt" });
  v.prompt.value = model.get("prompt");
  const modes = { add: "add direction", clamp: "clamp latent" };
  const options = Object.entries(modes).map(([value, text]) => h("option", { value, text }));
  v.mode = h("select", { "aria-label": "steering mode" }, ...options);
  v.mode.value = model.get("mode");
  v.numbers = ["temperature", "max_new_tokens", "seed"].map((name) => {
    const [step, label] = [name === "temperature" ? 0.1 : 1, name.replaceAll("_", " ")];
    const input = h("input", { type: "number", step, class: "saew-steer-num", "aria-label": label });
    input.value = model.get(name);
    return { name, input, label: h("label", { class: "saew-muted" }, label + " ", input) };
  });
  v.sliderBox = h("div", { class: "saew-steer-sliders" });
  v.picker = buildPicker(v);
  v.left = h("div", { class: "saew-steer-text", "data-kind": "unsteered" });
  v.right = h("div", { class: "saew-steer-text", "data-kind": "steered" });
  const note = snapshot
    ? "Offline snapshot of the last generation, at the strengths shown; moving them needs a running kernel."
    : offline
      ? `Offline snapshot: strengths from a precomputed grid (${values.join(", ")}), one latent at a time.`
      : "Strengths are multiples of each latent's typical maximum activation (99.9th percentile).";
  const [nShown, nAll] = [model.get("latents").length, (model.get("available") || []).length];
  const more =
    offline && nAll > nShown
      ? ` Sliders for ${nShown} of ${nAll.toLocaleString("en-US")} latents were exported; the others need a running kernel.`
      : "";
  const column = (head, text) => h("div", {}, h("div", { class: "saew-steer-head", text: head }), text);
  v.root = h(
    "div",
    { class: "saew-widget saew-steer" },
    h("div", { class: "saew-row" }, h("label", { class: "saew-muted", text: "Prompt " }), v.prompt, v.mode),
    h("div", { class: "saew-row" }, ...v.numbers.map((n) => n.label), v.status),
    v.picker.row,
    v.sliderBox,
    h(
      "div",
      { class: "saew-steer-columns" },
      column("unsteered", v.left),
      column("steered (same seed)", v.right),
    ),
    h("p", { class: "saew-note", text: note + more }),
  );
  return v;
}

/** Latents beyond the slidered ones: a search box and a list (both keyboard operable) to give one a slider.
 * Enter in the box or the list, or the button, adds the chosen latent. Hidden when every latent has one. */
function buildPicker(v) {
  const { model } = v;
  const p = {};
  p.search = h("input", { type: "search", class: "saew-steer-search", "aria-label": "find a latent" });
  p.search.placeholder = "find a latent (id or label)";
  p.list = h("select", { class: "saew-steer-pick", "aria-label": "latents without a slider" });
  p.add = h("button", { type: "button", text: "add slider" });
  p.count = h("span", { class: "saew-muted saew-steer-count" });
  p.row = h("div", { class: "saew-row saew-steer-picker" }, p.search, p.list, p.add, p.count);
  p.refresh = () => {
    const [all, names, shown] = [
      model.get("available") || [],
      model.get("available_labels") || [],
      model.get("latents"),
    ];
    p.row.hidden = all.length <= shown.length;
    p.count.textContent = `${shown.length} of ${all.length.toLocaleString("en-US")} latents have sliders`;
    const q = p.search.value.trim().toLowerCase();
    const matches = [];
    for (let k = 0; k < all.length && matches.length < 200; k++)
      if (!shown.includes(all[k]) && (!q || String(all[k]) === q || names[k].toLowerCase().includes(q)))
        matches.push(h("option", { value: String(all[k]), text: `${all[k]}: ${names[k]}` }));
    p.list.replaceChildren(...matches);
  };
  const pick = () => {
    if (!p.list.value) return;
    if (v.offline) return tellOffline(v);
    const shown = model.get("latents");
    const max = model.get("max_sliders") || 12;
    if (shown.length >= max) {
      v.status.textContent = `At most ${max} sliders: remove one (×) first.`;
      return;
    }
    save(model, { latents: [...shown, Number(p.list.value)] });
  };
  p.search.addEventListener("input", p.refresh);
  p.search.addEventListener("keydown", (e) => e.key === "Enter" && pick());
  p.list.addEventListener("keydown", (e) => e.key === "Enter" && pick());
  p.add.addEventListener("click", pick);
  return p;
}

/** Offline, the first edit that needs the kernel says so (once: not one more note per edit). */
function tellOffline(v) {
  if (v.toldOffline) return;
  v.toldOffline = true;
  v.model.send({ type: "offline" });
}

/** (Re)build the sliders for the current `latents` (the picker changed them, or the first render). */
function showSliders(v) {
  const { model } = v;
  const remove =
    (model.get("available") || []).length > 1
      ? (id) => {
          if (v.offline) return tellOffline(v);
          const rest = model.get("latents").filter((i) => i !== id);
          if (rest.length) save(model, { latents: rest });
        }
      : null;
  v.sliders = buildSliders(model, v.values, v.snapshot, remove);
  v.sliderBox.replaceChildren(...v.sliders.map((s) => s.row));
  v.sliders.forEach((s, j) =>
    s.input.addEventListener("input", () => {
      s.show();
      moved(v, j);
    }),
  );
  v.picker.refresh();
}

function draw(v) {
  v.left.textContent = v.model.get("unsteered");
  v.right.textContent = v.model.get("steered");
}

/** Ask Python for a generation at these strengths, or keep them for when the one in flight is answered. */
function send(v, strengths) {
  if (v.inFlight) {
    v.pending = strengths;
    return;
  }
  const now = v.model.get("strengths");
  if (strengths.length === now.length && strengths.every((x, i) => Math.abs(x - now[i]) < 1e-9)) return;
  v.inFlight = true;
  v.status.textContent = "generating…";
  save(v.model, { strengths });
}

/** Slider j moved. Offline: show the precomputed text for it (the other sliders go back to 0). */
function moved(v, j) {
  const { model, sliders, values, grid } = v;
  if (!v.offline)
    return send(
      v,
      sliders.map((s) => s.strength()),
    );
  sliders.forEach((s, k) => {
    if (k === j) return;
    s.input.value = values.indexOf(0);
    s.show();
  });
  model.set("steered", grid.texts[j][Number(sliders[j].input.value)]);
  model.set("unsteered", grid.unsteered);
}

/** The answer to the generation in flight arrived: send what the sliders asked for meanwhile, if anything. */
function generated(v) {
  v.inFlight = false;
  v.status.textContent = "";
  const next = v.pending;
  v.pending = null;
  if (next) send(v, next);
}

export default {
  render({ model, el }) {
    startView(model, el);
    const v = buildView(model);
    const setting = (name, value) => (v.offline ? tellOffline(v) : save(model, { [name]: value }));
    v.prompt.addEventListener("change", () => setting("prompt", v.prompt.value));
    v.prompt.addEventListener("keydown", (e) => e.key === "Enter" && setting("prompt", v.prompt.value));
    v.mode.addEventListener("change", () => setting("mode", v.mode.value));
    for (const { name, input } of v.numbers)
      input.addEventListener("change", () => setting(name, Number(input.value)));
    showSliders(v);
    const stops = [
      listen(model, ["change:latents"], () => showSliders(v)),
      listen(model, ["change:generations"], () => generated(v)),
      listen(model, ["change:steered", "change:unsteered"], () => draw(v)),
    ];
    draw(v);
    el.append(v.root);
    return () => stops.forEach((stop) => stop());
  },
};
