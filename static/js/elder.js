// 长辈版 (elder mode; accounts/elder.py): loaded only in elder mode.
// A form marked data-elder-steps asks one question per step: each field (a div.field-NAME, with
// what follows it up to the next field) becomes a step, with 上一步/下一步 buttons and "第 n 步，共 m 步".
// Without JavaScript the whole form shows, as in the standard mode. Labels come from the form's
// data-step-next, data-step-prev and data-step-count ("{n}" and "{total}" filled in).
(function () {
  "use strict";

  function setUp(form) {
    var groups = [];
    var current = null;
    Array.prototype.slice.call(form.children).forEach(function (element) {
      if (element.matches("input[type=hidden], .alert")) {
        return;
      }
      var isField = /(^|\s)field-/.test(element.className);
      if (isField || current === null) {
        current = [element];
        groups.push(current);
      } else {
        current.push(element);
      }
    });
    if (groups.length < 2) {
      return;
    }
    var steps = groups.map(function (group) {
      var step = document.createElement("div");
      step.className = "elder-step";
      form.insertBefore(step, group[0]);
      group.forEach(function (element) {
        step.appendChild(element);
      });
      return step;
    });
    var count = document.createElement("div");
    count.className = "elder-step-count";
    count.setAttribute("aria-live", "polite");
    form.insertBefore(count, steps[0]);
    var nav = document.createElement("div");
    nav.className = "elder-step-nav";
    var prev = document.createElement("button");
    prev.type = "button";
    prev.className = "btn btn-outline-secondary";
    prev.textContent = form.dataset.stepPrev || "‹";
    var next = document.createElement("button");
    next.type = "button";
    next.className = "btn btn-danger";
    next.textContent = form.dataset.stepNext || "›";
    nav.appendChild(prev);
    nav.appendChild(next);
    form.appendChild(nav);

    var index = 0;
    function show(target, focus) {
      index = Math.max(0, Math.min(steps.length - 1, target));
      steps.forEach(function (step, i) {
        step.hidden = i !== index;
      });
      prev.hidden = index === 0;
      next.hidden = index === steps.length - 1;
      count.textContent = (form.dataset.stepCount || "{n} / {total}")
        .replace("{n}", String(index + 1))
        .replace("{total}", String(steps.length));
      if (focus) {
        var field = steps[index].querySelector("input:not([type=hidden]), select, textarea");
        if (field) {
          field.focus();
        }
      }
    }
    next.addEventListener("click", function () {
      var invalid = steps[index].querySelector("input:invalid, select:invalid, textarea:invalid");
      if (invalid) {
        invalid.reportValidity();
        return;
      }
      show(index + 1, true);
    });
    prev.addEventListener("click", function () {
      show(index - 1, true);
    });
    // After a refused submission, start at the first question with an error.
    var first = steps.findIndex(function (step) {
      return step.querySelector(".is-invalid, [data-field-error]") !== null;
    });
    show(first >= 0 ? first : 0, first >= 0);
  }

  document.querySelectorAll("form[data-elder-steps]").forEach(setUp);
})();
