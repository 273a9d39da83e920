// Live preview of an organizer's update while it is written. Progressive enhancement only:
// without this file, the form's Preview button shows the same preview from the server.
(function () {
  "use strict";

  var form = document.querySelector("form[data-preview-url]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var body = form.elements.namedItem("body");
  var subject = form.elements.namedItem("subject");
  var bodyPreview = document.querySelector(form.dataset.previewBody);
  var subjectPreview = document.querySelector(form.dataset.previewSubject);
  if (!body || !subject || !bodyPreview || !subjectPreview) { return; }
  var timer = null;
  var latest = 0;

  // The server renders the Markdown (raw HTML disabled), so the preview is what the email shows.
  function refresh() {
    var ticket = ++latest;
    var data = new FormData();
    data.append("csrf_token", form.elements.namedItem("csrf_token").value);
    data.append("body", body.value);
    fetch(form.dataset.previewUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && ticket === latest) { bodyPreview.innerHTML = html; }
      })
      .catch(function () { /* the Preview button still works */ });
  }

  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  subject.addEventListener("input", function () { subjectPreview.textContent = subject.value; });
})();
