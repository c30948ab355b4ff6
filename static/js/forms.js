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

/* Photo pickers (baohe/widgets/photos.html): 拍照 and 相册 become buttons, and the chosen photos
   show as thumbnails before sending. Without JavaScript both stay plain file inputs. */
(function () {
  function preview(picker) {
    var box = picker.querySelector("[data-photo-preview]");
    if (!box) return;
    box.textContent = "";
    var count = 0;
    picker.querySelectorAll("input[type=file]").forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) {
        if (!/^image\//.test(file.type)) return;
        var img = document.createElement("img");
        img.alt = file.name;
        var frame = document.createElement("span");
        frame.className = "photo-thumb";
        frame.appendChild(img);
        box.appendChild(frame);
        count += 1;
        var reader = new FileReader();
        reader.onload = function () { img.src = reader.result; };
        reader.readAsDataURL(file);
      });
    });
    box.hidden = count === 0;
  }
  document.querySelectorAll("[data-photo-picker]").forEach(function (picker) {
    picker.classList.add("is-enhanced");
    picker.addEventListener("change", function () { preview(picker); });
  });
})();
