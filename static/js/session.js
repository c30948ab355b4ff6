/* The idle sign-out warning for staff (accounts/sessions.py). The page's #session-warning says,
   in data- attributes, how many seconds of inactivity are left (the server's count at render
   time), when to warn and where the keepalive view is. A few minutes before the end the notice
   shows a countdown and a "继续使用" button that posts to the keepalive view; when the time is up
   the page reloads and the server signs the session out. Another tab's activity also keeps the
   session: before warning, the timer asks the server (GET) how long is really left. */
(function () {
  var box = document.getElementById("session-warning");
  if (!box) return;
  var idle = Number(box.dataset.idleSeconds);
  var warn = Number(box.dataset.warnSeconds);
  var touchEvery = Number(box.dataset.touchEvery);
  var url = box.dataset.keepaliveUrl;
  var deadline = Date.now() + Number(box.dataset.idleLeft) * 1000;
  var countdown = box.querySelector("[data-countdown]");
  var checking = false;
  var checkedAt = 0;

  function ask(method) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method === "POST") options.headers["X-CSRFToken"] = box.dataset.csrfToken;
    return fetch(url, options).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!response.ok || !json || response.redirected) throw new Error("signed out");
      return response.json();
    }).then(function (data) {
      if (typeof data.idle_seconds_left !== "number") throw new Error("signed out");
      deadline = Date.now() + data.idle_seconds_left * 1000;
    });
  }

  function show(remaining) {
    var seconds = Math.max(0, Math.ceil(remaining / 1000));
    var minutes = Math.floor(seconds / 60);
    countdown.textContent = minutes + ":" + String(seconds % 60).padStart(2, "0");
    box.classList.remove("d-none");
  }

  function tick() {
    var remaining = deadline - Date.now();
    if (remaining <= 0) {
      window.location.reload();
      return;
    }
    if (remaining > warn * 1000) {
      box.classList.add("d-none");
      return;
    }
    if (!checking && Date.now() - checkedAt > 30000) {
      checking = true;
      ask("GET").catch(function () {}).then(function () {
        checking = false;
        checkedAt = Date.now();
      });
    }
    show(remaining);
  }

  box.querySelector("[data-keepalive]").addEventListener("click", function () {
    ask("POST").then(function () {
      box.classList.add("d-none");
    }).catch(function () {
      window.location.reload();
    });
  });

  // Requests made without leaving the page (htmx) count as activity on the server too.
  document.body.addEventListener("htmx:afterRequest", function () {
    deadline = Math.max(deadline, Date.now() + (idle - touchEvery) * 1000);
  });

  window.setInterval(tick, 1000);
})();
