// SteeringPanel: one signed slider per latent; unsteered | steered text side by side.
// One request in flight at a time: while the kernel generates, slider moves only update `pending`,
// and the latest value is sent when the answer arrives, so no backlog builds.
export default {
  render({ model, el }) {
    const offline = Boolean(model.get("_offline"));
    const grid = model.get("_grid") || {};
    const latents = model.get("latents");
    const labels = model.get("labels");
    const root = h("div", { class: "saew-widget saew-steer" });
    const status = h("span", { class: "saew-steer-status saew-muted", role: "status" });

    const prompt = h("input", { type: "text", class: "saew-steer-prompt", "aria-label": "prompt" });
    prompt.value = model.get("prompt");
    const mode = h("select", { "aria-label": "steering mode" },
      h("option", { value: "add", text: "add direction" }), h("option", { value: "clamp", text: "clamp latent" }));
    mode.value = model.get("mode");
    const number = (name, label, step) => {
      const input = h("input", { type: "number", step, class: "saew-steer-num", "aria-label": label });
      input.value = model.get(name);
      input.addEventListener("change", () => setting(name, Number(input.value)));
      return h("label", { class: "saew-muted" }, label + " ", input);
    };

    // Offline with a grid (to_html, the demo's report): sliders step through it. Offline without one (a
    // notebook's saved widget state, as on the docs site): the kernel's last generation, sliders fixed there.
    const snapshot = offline && !(grid.values && grid.values.length);
    const values = offline && !snapshot ? grid.values : null;
    const sliders = latents.map((id, j) => {
      const out = h("output", { class: "saew-steer-value" });
      const input = h("input", { type: "range", class: "saew-steer-slider", "aria-label": `strength of ${labels[j]}` });
      if (values) Object.assign(input, { min: 0, max: values.length - 1, step: 1, value: values.indexOf(0) });
      else Object.assign(input, { min: -5, max: 5, step: 0.1, value: model.get("strengths")[j], disabled: snapshot });
      const strength = () => (values ? values[Number(input.value)] : Number(input.value));
      const show = () => { out.textContent = `${strength() >= 0 ? "+" : ""}${strength().toFixed(1)} × typical max`; };
      input.addEventListener("input", () => { show(); moved(j); });
      show();
      return { id, input, strength, show, row: h("div", { class: "saew-row saew-steer-latent" },
        h("span", { class: "saew-steer-label", text: labels[j] }), input, out) };
    });

    const left = h("div", { class: "saew-steer-text", "data-kind": "unsteered" });
    const right = h("div", { class: "saew-steer-text", "data-kind": "steered" });
    const draw = () => {
      left.textContent = model.get("unsteered");
      right.textContent = model.get("steered");
    };

    let inFlight = false;
    let pending = null;
    const same = (a, b) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-9);
    function send(strengths) {
      if (inFlight) { pending = strengths; return; }
      if (same(strengths, model.get("strengths"))) return;
      inFlight = true;
      status.textContent = "generating…";
      model.set("strengths", strengths);
      model.save_changes();
    }
    function moved(j) {
      if (offline) {  // one latent at a time, from the precomputed grid
        sliders.forEach((s, k) => { if (k !== j) { s.input.value = values.indexOf(0); s.show(); } });
        const idx = Number(sliders[j].input.value);
        model.set("steered", grid.texts[j][idx]);
        model.set("unsteered", grid.unsteered);
        return;
      }
      send(sliders.map((s) => s.strength()));
    }
    function setting(name, value) {
      if (offline) { model.send({ type: "offline" }); return; }
      model.set(name, value);
      model.save_changes();
    }
    prompt.addEventListener("change", () => setting("prompt", prompt.value));
    mode.addEventListener("change", () => setting("mode", mode.value));
    const onGenerated = () => {
      inFlight = false;
      status.textContent = "";
      if (pending) { const next = pending; pending = null; send(next); }
    };
    const stops = [listen(model, ["change:generations"], onGenerated),
      listen(model, ["change:steered", "change:unsteered"], draw)];
    draw();

    root.append(
      h("div", { class: "saew-row" }, h("label", { class: "saew-muted", text: "Prompt " }), prompt, mode),
      h("div", { class: "saew-row" }, number("temperature", "temperature", 0.1), number("max_new_tokens", "max new tokens", 1),
        number("seed", "seed", 1), status),
      ...sliders.map((s) => s.row),
      h("div", { class: "saew-steer-columns" },
        h("div", {}, h("div", { class: "saew-steer-head", text: "unsteered" }), left),
        h("div", {}, h("div", { class: "saew-steer-head", text: "steered (same seed)" }), right)),
      h("p", { class: "saew-note", text: snapshot
        ? "Offline snapshot of the last generation, at the strengths shown; moving them needs a running kernel."
        : offline
          ? `Offline snapshot: strengths from a precomputed grid (${values.join(", ")}), one latent at a time.`
          : "Strengths are multiples of each latent's typical maximum activation (99.9th percentile)." }));
    el.append(root);
    return () => stops.forEach((stop) => stop());
  },
};
