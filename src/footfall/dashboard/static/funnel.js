/* The funnel page: visitors reaching each step, conversion and drop-off. */
(function () {
  "use strict";
  var F = window.Footfall;
  var root = document.getElementById("funnel");
  if (!root || !F) { return; }
  var steps = Array.prototype.map.call(document.querySelectorAll("#funnel-steps li"),
    function (li) { return li.textContent; });
  /* what the step was picked as ("Visit /pricing", "/pricing"), else its expression */
  var labels = Array.prototype.map.call(document.querySelectorAll("#funnel-steps li"),
    function (li) { return li.dataset.label || li.textContent; });
  var section = document.getElementById("funnel-result");
  var statusLine = section.querySelector(".status");
  var body = section.querySelector("tbody");
  var params = Object.assign({}, F.baseParams(root), { step: steps });
  var csvLink = document.getElementById("funnel-csv");
  csvLink.setAttribute("href", F.exportUrl(root, "funnel", { step: steps }));
  /* no funnel yet: its CSV would only be the stats API's "at least 2 steps" */
  if (steps.length < 2) { csvLink.classList.add("hidden"); return; }

  function pick(obj, names) {
    for (var i = 0; i < names.length; i += 1) {
      if (obj[names[i]] !== undefined && obj[names[i]] !== null) { return obj[names[i]]; }
    }
    return null;
  }

  function pct(v) {
    return v === null ? "–" : (Math.round(Number(v) * 10) / 10) + "%";
  }

  F.api("funnel", params).then(function (data) {
    var results = data && data.results;
    var rows = Array.isArray(results) ? results : (results && results.steps) || [];
    var first = rows.length ? F.num(pick(rows[0], ["visitors"])) : 0;
    rows.forEach(function (r, i) {
      var visitors = F.num(pick(r, ["visitors"]));
      var conversion = pick(r, ["conversion_rate", "conversion", "conversion_rate_step"]);
      if (conversion === null) { conversion = first ? 100 * visitors / first : 0; }
      var dropoff = pick(r, ["dropoff", "drop_off", "dropoff_visitors"]);
      if (dropoff === null && i > 0) { dropoff = F.num(pick(rows[i - 1], ["visitors"])) - visitors; }
      var tr = F.el("tr");
      var label = pick(r, ["label", "name", "filter"]);
      tr.appendChild(F.el("td", { "class": "label", title: label === null ? steps[i] : label },
        labels[i] || (label === null ? steps[i] : label)));
      var cell = F.el("td", { "class": "num" });
      var bar = F.el("span", { "class": "bar-fill funnel-bar" });
      bar.style.width = (first ? Math.round(100 * visitors / first) : 0) + "%";
      cell.appendChild(bar);
      cell.appendChild(F.el("span", null, F.fmt("visitors", visitors)));
      tr.appendChild(cell);
      tr.appendChild(F.el("td", { "class": "num" }, pct(conversion)));
      tr.appendChild(F.el("td", { "class": "num" }, dropoff === null ? "–" : F.fmt("visitors", dropoff)));
      body.appendChild(tr);
    });
    statusLine.textContent = rows.length ? "" : "No data for this period.";
  }).catch(function (e) { statusLine.textContent = "Could not load the funnel: " + e.message; });
})();
