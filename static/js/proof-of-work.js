// The proof-of-work widget's worker, from this site's static files: the CSP-strict build of the
// widget has none built in. Modules run in order, so the widget's global is there.
const widget = document.querySelector("altcha-widget[data-worker]");
if (widget && globalThis.$altcha) {
  const worker = widget.dataset.worker;
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(worker));
}
