// Each widget page posts its height (file:// frames are cross-origin, so the parent cannot measure them).
addEventListener("message", (event) => {
  const height = event.data && event.data.saewHeight;
  if (!height) return;
  for (const frame of document.querySelectorAll("iframe.nb-widget")) {
    if (frame.contentWindow === event.source) frame.style.height = `${Math.min(height + 4, 2000)}px`;
  }
});
