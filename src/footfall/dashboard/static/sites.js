/* Site list: visitors in the last 30 days beside each site. */
(function () {
  "use strict";
  document.querySelectorAll("[data-site-visitors]").forEach(function (node) {
    var site = node.getAttribute("data-site-visitors");
    fetch("/api/v1/stats/aggregate?" + new URLSearchParams({ site_id: site, period: "30d", metrics: "visitors" }),
      { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        var v = body && body.results && body.results.visitors;
        if (v && typeof v.value === "number") {
          node.textContent = v.value.toLocaleString("en") + " visitors in 30 days";
        }
      })
      .catch(function () { /* the list works without the numbers */ });
  });
})();
