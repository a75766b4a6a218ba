// The demo report's own glue: a latent button in the table shows that latent in the feature view.
// The widget may still be rendering when this runs, so its model is looked up on each click.
const view = () => document.querySelector('[data-saew-name="features"]');
const buttons = [...document.querySelectorAll(".saew-report-show")];
const mark = (latent) =>
  buttons.forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.latent) === latent)));
for (const button of buttons) {
  button.addEventListener("click", () => {
    const el = view();
    if (!el || !el.saewModel) return;
    const latent = Number(button.dataset.latent);
    el.saewModel.set("latent", latent);
    mark(latent);
    el.scrollIntoView({ block: "start" });
  });
}
if (buttons.length) mark(Number(buttons[0].dataset.latent));
