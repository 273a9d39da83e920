// The petition editor's live preview: the statement re-rendered by the server as it is typed.
// Progressive enhancement only: without this file the "Preview" button does the same.
(function () {
  "use strict";

  var source = document.querySelector("[data-preview-url]");
  if (!source || !window.fetch) { return; }
  var target = document.querySelector(source.dataset.previewTarget);
  var token = source.form && source.form.querySelector("input[name='csrf_token']");
  if (!target || !token) { return; }
  var timer = null;
  var latest = 0;

  function refresh() {
    var request = ++latest;
    fetch(source.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token.value },
      body: new URLSearchParams({ body: source.value })
    }).then(function (response) {
      return response.ok ? response.text() : Promise.reject(response.status);
    }).then(function (html) {
      // Only the answer to the latest request counts; the server escapes any raw HTML.
      if (request === latest) { target.innerHTML = html; }
    }).catch(function () { /* the Preview button still works */ });
  }

  source.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
})();
