/* A Workflow step that takes the explainer away from readers (Unpublish, Archive) asks in a
   dialog before the change form is submitted; a yes is sent along so the server does not ask
   again. Without JavaScript the server asks on a page of its own (confirm_step.html). */
(function () {
  "use strict";

  function start() {
    var confirmed = document.querySelector("[data-workflow-confirmed]");
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.dataset.confirm)) {
          event.preventDefault();
          return;
        }
        if (confirmed) { confirmed.value = button.value; }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
