/* The explainer's change form asks before the page is left with edits not yet saved: a
   typed section, a chosen image, a source row. The question is armed by the first change
   and disarmed when the form itself is submitted (Save, or a Workflow step, which saves
   first). A page the server sent back with errors holds edits that are not saved, so it
   starts armed. Without JavaScript nothing asks; the form saves as before. */
(function () {
  "use strict";

  function guard(form) {
    var changed = form.querySelector("[data-unsaved-changes]") !== null;
    var submitting = false;

    function markChanged() { changed = true; }
    form.addEventListener("input", markChanged);
    form.addEventListener("change", markChanged);
    form.addEventListener("submit", function () { submitting = true; });
    // Back to this page from the browser's history: a new submit has to disarm it again.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { submitting = false; }
    });
    window.addEventListener("beforeunload", function (event) {
      if (changed && !submitting) {
        event.preventDefault();
        // Older browsers ask only when a value is returned; none shows this text.
        event.returnValue = "";
      }
    });
  }

  function start() {
    var form = document.querySelector("body.change-form #content-main > form[method=post]");
    if (form) { guard(form); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
