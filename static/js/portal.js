/* 和美社区: the small behaviours pages ask for with data- attributes.
 *
 * Templates carry no inline <script>, no on*= handlers and no style="" (the
 * Content-Security-Policy allows scripts from this site only): a template marks an element,
 * this file (loaded by base.html) gives it its behaviour. Listeners sit on the document, so
 * content swapped in by htmx behaves the same.
 *
 *   <select data-autosubmit>                   submits its form when changed (filter bars)
 *   <input type="checkbox" data-select-all="CSS selector">
 *                                              checks or unchecks every box the selector finds
 *   <input type="checkbox" data-reveals="ID">  shows the element #ID only while checked
 *   <button data-formset-add="PREFIX" data-formset-rows="ID" data-formset-template="ID">
 *                                              adds a row to a Django formset from its
 *                                              <template> (empty_form, __prefix__ replaced)
 */
(function () {
  "use strict";

  function revealSync(box) {
    var target = document.getElementById(box.getAttribute("data-reveals"));
    if (target) {
      target.hidden = !box.checked;
    }
  }

  function revealAll(root) {
    (root || document).querySelectorAll("input[data-reveals]").forEach(revealSync);
  }

  function addFormsetRow(button) {
    var prefix = button.getAttribute("data-formset-add");
    var rows = document.getElementById(button.getAttribute("data-formset-rows"));
    var template = document.getElementById(button.getAttribute("data-formset-template"));
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    if (!rows || !template || !total) {
      return;
    }
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) {
      return;
    }
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
  }

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.getAttribute) {
      return;
    }
    if (field.hasAttribute("data-autosubmit") && field.form) {
      field.form.submit();
    } else if (field.hasAttribute("data-select-all")) {
      document.querySelectorAll(field.getAttribute("data-select-all")).forEach(function (box) {
        if (box !== field) {
          box.checked = field.checked;
        }
      });
    } else if (field.hasAttribute("data-reveals")) {
      revealSync(field);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-formset-add]");
    if (button) {
      addFormsetRow(button);
    }
  });

  if (document.readyState !== "loading") {
    revealAll();
  } else {
    document.addEventListener("DOMContentLoaded", function () { revealAll(); });
  }
  document.addEventListener("htmx:load", function (event) { revealAll(event.target); });
})();
