/* Form errors: once the person changes a field that the server marked invalid, its red state
   and message go away, so the page no longer shows an error for a value already corrected.
   The server checks the form again on submit. */
(function () {
  function clearError(event) {
    var field = event.target;
    if (!field.classList || !field.classList.contains("is-invalid")) return;
    field.classList.remove("is-invalid");
    if (!field.name) return;
    document.querySelectorAll('[data-field-error="' + CSS.escape(field.name) + '"]').forEach(function (message) {
      message.classList.remove("d-block");
      message.classList.add("d-none");
    });
  }
  document.addEventListener("input", clearError);
  document.addEventListener("change", clearError);
})();

/* Irreversible steps (办结, 不予受理, 退单, 撤回, 取消报名 …): a submit button with data-confirm
   asks its question first (the text comes from the workflow table, service_requests/workflow.py,
   Step.ask); "Cancel" submits nothing. */
(function () {
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
