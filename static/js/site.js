// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function copyText(input, status) {
    var text = input.value;
    var done = function () { status.textContent = status.dataset.copied || "Link copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(); });
    } else {
      fallback();
    }
    function fallback() {
      input.select();
      try { document.execCommand("copy"); done(); } catch (e) { status.textContent = ""; }
    }
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var input = document.querySelector(button.dataset.copy);
    var status = button.closest(".copy-link").querySelector(".copy-status");
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { copyText(input, status); });
  });

  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
