// Sends the feedback forms in place. Without this script they post and come back to the page.
(function () {
  "use strict";
  var widget = document.querySelector("[data-feedback]");
  if (!widget || !window.fetch || !window.FormData) return;
  var status = widget.querySelector(".feedback-status");

  function say(message) {
    status.textContent = message;
  }

  function send(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    return fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok || !body.ok) throw new Error(body.error || "Your feedback was not recorded.");
        return body;
      });
    });
  }

  widget.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-feedback-form]");
    if (!form) return;
    event.preventDefault();
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    send(form, event.submitter)
      .then(function (body) {
        var template = widget.querySelector('template[data-followup="' + body.useful + '"]');
        var followUp = form.classList.contains("feedback-vote") && template;
        form.remove();
        say(body.message);
        if (followUp) {
          status.after(template.content.cloneNode(true));
          widget.querySelectorAll("template").forEach(function (t) { t.remove(); });
        }
      })
      .catch(function (error) {
        say(error.message || "Your feedback was not recorded. Please try again.");
        buttons.forEach(function (b) { b.disabled = false; });
      });
  });
})();
