/* Staff forms: a resident or household <select data-autocomplete="URL"> becomes a search box
 * (Tom Select, static/vendor/tom-select/) that asks the scoped endpoint
 * (communities.views.autocomplete) as the user types: URL?q=words → {"results": [{value, text}]}.
 * The select holds only the chosen options (communities.widgets), never the whole community. */
(function () {
  "use strict";
  function setUp(select) {
    if (select.tomselect || typeof TomSelect === "undefined") { return; }
    var url = select.getAttribute("data-autocomplete");
    var multiple = select.multiple;
    // eslint-disable-next-line no-new
    new TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: [],  // the server has already matched; show what it answers
      maxOptions: 20,
      maxItems: multiple ? null : 1,
      plugins: multiple ? ["remove_button"] : [],
      loadThrottle: 250,
      shouldLoad: function (query) { return query.trim().length >= 1; },
      load: function (query, callback) {
        var sep = url.indexOf("?") === -1 ? "?" : "&";
        fetch(url + sep + "q=" + encodeURIComponent(query), {
          credentials: "same-origin",
          headers: { "Accept": "application/json" }
        })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { callback(data.results); })
          .catch(function () { callback(); });
      },
      render: {
        no_results: function () {
          return '<div class="no-results">' + (select.getAttribute("data-no-results") || "—") + "</div>";
        }
      }
    });
  }
  function setUpAll(root) {
    (root || document).querySelectorAll("select[data-autocomplete]").forEach(setUp);
  }
  document.addEventListener("DOMContentLoaded", function () { setUpAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { setUpAll(event.target); });
})();
