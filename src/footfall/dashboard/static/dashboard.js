/* The site dashboard: fetch every number from the stats API and write it in
 * as text. The page's view (period, filters, comparison) lives in the URL. */
(function () {
  "use strict";
  var F = window.Footfall;
  var root = document.getElementById("dashboard");
  if (!root || !F) { return; }
  var base = F.baseParams(root);
  var interval = root.dataset.interval;
  var compare = root.dataset.compare === "previous_period";
  var chart = null;
  var chartMetric = "visitors";
  var VISIT = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"];
  var SERVER = ["requests", "bytes", "duration_p50", "duration_p95", "error_rate"];

  /* -- top-line numbers --------------------------------------------------- */
  function fillStats(section, results) {
    section.querySelectorAll(".stat").forEach(function (card) {
      var metric = card.dataset.metric;
      var entry = results[metric] || {};
      card.querySelector("[data-value]").textContent = F.fmt(metric, entry.value);
      var change = card.querySelector("[data-change]");
      change.className = "stat-change";
      if (typeof entry.change === "number") {
        var good = metric === "bounce_rate" || metric === "error_rate" || metric.indexOf("duration_p") === 0
          ? entry.change < 0 : entry.change > 0;
        /* rates change in percentage points, counts in percent (as the API computes them) */
        var points = metric === "bounce_rate" || metric === "error_rate" || metric === "conversion_rate";
        change.textContent = (entry.change > 0 ? "↑ " : entry.change < 0 ? "↓ " : "") +
          Math.abs(entry.change) + (points ? " pp" : "%");
        change.classList.add(entry.change === 0 ? "flat" : good ? "up" : "down");
        change.title = "Change against the previous period";
      } else if (entry.change === null) {
        /* the previous period had nothing to compare with: no invented "+100%" */
        change.textContent = F.num(entry.value) ? "new" : "\u2014";
        change.classList.add("flat");
        change.title = "No data in the previous period";
      } else {
        change.textContent = "";
      }
    });
  }

  /* Imported data cannot answer some queries (a goal, a property they do not
   * record): the stats then leave them out, and the note must not say "Includes". */
  function noteSkippedImports(body) {
    var text = document.getElementById("imported-text");
    var meta = body && body.meta;
    if (!text || !meta || meta.imports_included !== false) { return; }
    text.textContent = "Imported data are not included: they cannot answer these filters.";
  }

  function loadTopline() {
    var section = document.getElementById("topline");
    document.getElementById("topline-csv").setAttribute("href",
      F.exportUrl(root, "aggregate", { metrics: VISIT.join(","), compare: "previous_period" }));
    F.api("aggregate", Object.assign({}, base, { metrics: VISIT.join(","), compare: "previous_period" }))
      .then(function (body) {
        fillStats(section, (body && body.results) || {});
        noteSkippedImports(body);
      })
      .catch(function (e) { showError(section, e); });
    var server = document.getElementById("topline-server");
    /* Ask the cheap question first: percentiles cost a scan, so only sites
     * that have server-side requests pay for them. */
    F.api("aggregate", Object.assign({}, base, { metrics: "requests" }))
      .then(function (body) {
        var r = body && body.results && body.results.requests;
        if (!r || !F.num(r.value)) { return null; }
        return F.api("aggregate", Object.assign({}, base, { metrics: SERVER.join(","), compare: "previous_period" }));
      })
      .then(function (body) {
        if (!body) { return; }
        var results = body.results || {};
        server.classList.remove("hidden");
        fillStats(server, results);
        document.querySelectorAll(".panel.server-only").forEach(function (p) {
          p.classList.remove("hidden");
          initPanel(p);
        });
      })
      .catch(function () { /* no server requests for this site */ });
  }

  function showError(section, e) {
    var p = F.el("p", { "class": "error" }, "Could not load: " + e.message);
    section.appendChild(p);
  }

  /* -- time series -------------------------------------------------------- */
  function toSeconds(text) {
    var s = String(text).replace(" ", "T");
    if (s.length === 7) { s += "-01"; }
    if (s.length === 10) { s += "T00:00:00"; }
    if (!/(Z|[+-]\d\d:?\d\d)$/.test(s)) { s += "Z"; }
    var ms = Date.parse(s);
    return isNaN(ms) ? null : ms / 1000;
  }

  function isoDay(d) { return d.toISOString().slice(0, 10); }

  /* The previous period with as many buckets as the current one. */
  function previousParams(rows) {
    if (!rows.length) { return null; }
    var first = new Date(toSeconds(rows[0].date) * 1000);
    var n = rows.length;
    if (interval === "hour") {
      var day = new Date(first.getTime() - 86400000);
      return { period: "custom", date: isoDay(day) + "," + isoDay(day) };
    }
    var end = new Date(first.getTime() - 86400000);
    var start;
    if (interval === "month") {
      start = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() - n, 1));
    } else {
      start = new Date(first.getTime() - n * 86400000);
    }
    return { period: "custom", date: isoDay(start) + "," + isoDay(end) };
  }

  /* Ticks no finer than the buckets: days for a daily series, months for monthly. */
  function xAxis() {
    var day = 86400;
    if (interval === "date") { return { incrs: [day, 2 * day, 7 * day, 14 * day, 30 * day, 365 * day] }; }
    if (interval === "month") { return { incrs: [30 * day, 60 * day, 90 * day, 365 * day] }; }
    return {};
  }

  function drawChart(xs, series, data) {
    var box = document.getElementById("chart");
    if (chart) { chart.destroy(); chart = null; }
    if (!window.uPlot) { return; }
    var opts = {
      width: Math.max(300, box.clientWidth), height: 260,
      tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      series: series,
      axes: [xAxis(), { values: function (u, vals) { return vals.map(function (v) { return F.fmt(chartMetric, v); }); } }],
      scales: { x: { time: true } },
      legend: { live: true },
      plugins: F.annotationPlugin ? [F.annotationPlugin(interval)] : []
    };
    chart = new window.uPlot(opts, [xs].concat(data), box);
  }

  function loadChart() {
    var title = document.getElementById("chart-title");
    var statusLine = document.getElementById("chart-status");
    title.textContent = F.LABELS[chartMetric] || chartMetric;
    var params = Object.assign({}, base, { metrics: chartMetric, interval: interval });
    document.getElementById("chart-csv").setAttribute("href",
      F.exportUrl(root, "timeseries", { metrics: chartMetric, interval: interval }));
    statusLine.textContent = "";
    F.api("timeseries", params).then(function (body) {
      var rows = (body && body.results) || [];
      var xs = rows.map(function (r) { return toSeconds(r.date); });
      var ys = rows.map(function (r) { return F.num(r[chartMetric]); });
      var series = [{}, { label: F.LABELS[chartMetric] || chartMetric, stroke: "#4f46e5",
        fill: "rgba(79,70,229,0.12)", width: 2,
        value: function (u, v) { return F.fmt(chartMetric, v); } }];
      var prev = compare ? previousParams(rows) : null;
      if (!prev) { drawChart(xs, series, [ys]); return null; }
      return F.api("timeseries", Object.assign({}, base, prev, { metrics: chartMetric, interval: interval }))
        .then(function (pbody) {
          var prows = (pbody && pbody.results) || [];
          var pys = xs.map(function (_, i) { return i < prows.length ? F.num(prows[i][chartMetric]) : null; });
          series.push({ label: "Previous period", stroke: "#9ca3af", dash: [6, 4], width: 1.5,
            value: function (u, v) { return F.fmt(chartMetric, v); } });
          drawChart(xs, series, [ys, pys]);
        });
    }).catch(function (e) { statusLine.textContent = "Could not load the time series: " + e.message; });
  }

  document.querySelectorAll(".topline .stat").forEach(function (card) {
    card.addEventListener("click", function () {
      document.querySelectorAll(".topline .stat").forEach(function (c) { c.classList.toggle("active", c === card); });
      chartMetric = card.dataset.metric;
      loadChart();
    });
  });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      var box = document.getElementById("chart");
      if (chart) { chart.setSize({ width: Math.max(300, box.clientWidth), height: 260 }); }
    }, 150);
  });

  /* -- breakdown panels --------------------------------------------------- */
  function labelCell(prop, value) {
    var td = F.el("td", { "class": "label" });
    var text = value === "" || value === null || value === undefined ? "(none)" : String(value);
    var href = F.withFilter(prop, value === null || value === undefined ? "" : value);
    if (href) {
      td.appendChild(F.el("a", { href: href, "class": "filter-link", title: "Filter by this" }, text));
    } else {
      td.appendChild(F.el("span", null, text));
    }
    if (prop === "visit:referrer") {
      var url = F.httpUrl(value);
      if (url) {
        td.appendChild(document.createTextNode(" "));
        td.appendChild(F.el("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank",
          "class": "external", title: "Open the referrer" }, "↗"));
      }
    }
    return td;
  }

  /* The same breakdown over the comparison period (dates from the page), keyed by
   * value; null when not comparing or when it could not be read. */
  var previous = compare ? root.dataset.previous : "";
  var PREVIOUS_LIMIT = 1000;
  function previousRows(prop, metrics, key) {
    if (!previous) { return Promise.resolve(null); }
    var params = Object.assign({}, base, { period: "custom", date: previous, property: prop,
      metrics: metrics.join(","), limit: PREVIOUS_LIMIT });
    return F.api("breakdown", params).then(function (data) {
      var rows = (data && data.results) || [];
      var by = { complete: rows.length < PREVIOUS_LIMIT, rows: {} };
      rows.forEach(function (r) { by.rows[String(r[key])] = r; });
      return by;
    }).catch(function () { return null; });
  }

  /* One row's change against the comparison period, as the top-line numbers show it. */
  function changeCell(metric, row, before) {
    var td = F.el("td", { "class": "num stat-change" });
    var old = before.rows[String(row.key)];
    var now = F.num(row.value);
    if (!old) {
      td.textContent = before.complete && now ? "new" : "\u2014";
      td.classList.add("flat");
      td.title = "Not in the previous period";
      return td;
    }
    var was = F.num(old[metric]);
    var points = metric === "bounce_rate" || metric === "conversion_rate";
    var change = points ? Math.round((now - was) * 10) / 10 : was ? Math.round(100 * (now - was) / was) : null;
    td.title = "Previous period: " + F.fmt(metric, old[metric]);
    if (change === null) { td.textContent = now ? "new" : "\u2014"; td.classList.add("flat"); return td; }
    td.textContent = (change > 0 ? "\u2191 " : change < 0 ? "\u2193 " : "") + Math.abs(change) + (points ? " pp" : "%");
    td.classList.add(change === 0 ? "flat" : (metric === "bounce_rate" ? change < 0 : change > 0) ? "up" : "down");
    return td;
  }

  function loadPanel(section, tab) {
    var prop = tab.dataset.property, key = tab.dataset.key, sort = tab.dataset.sort;
    var skip = tab.dataset.skip ? tab.dataset.skip.split(",") : [];
    var metrics = tab.dataset.metrics.split(",");
    var head = section.querySelector("thead tr"), body = section.querySelector("tbody");
    var statusLine = section.querySelector(".status");
    head.textContent = ""; body.textContent = "";
    head.appendChild(F.el("th", null, tab.textContent));
    metrics.forEach(function (m) { head.appendChild(F.el("th", { "class": "num" }, F.LABELS[m] || m)); });
    section.querySelector(".csv").setAttribute("href",
      F.exportUrl(root, "breakdown", { property: prop, metrics: metrics.join(",") }));
    statusLine.textContent = "Loading…";
    var limit = sort ? 100 : 10 + skip.length;
    var params = Object.assign({}, base, { property: prop, metrics: metrics.join(","), limit: limit });
    Promise.all([F.api("breakdown", params), previousRows(prop, metrics, key)]).then(function (both) {
      var data = both[0], before = both[1];
      if (before) { head.appendChild(F.el("th", { "class": "num", title: "Against the previous period" }, "Change")); }
      var rows = ((data && data.results) || []).filter(function (r) { return skip.indexOf(r[key]) < 0; });
      if (sort) {
        /* rank by `sort` among rows with a fair share of the traffic, not one-off URLs */
        var most = Math.max.apply(null, rows.map(function (r) { return F.num(r[metrics[0]]); }).concat([0]));
        var common = rows.filter(function (r) { return F.num(r[metrics[0]]) >= Math.max(2, most / 100); });
        rows = (common.length ? common : rows).slice().sort(function (a, b) { return F.num(b[sort]) - F.num(a[sort]); });
      }
      rows = rows.slice(0, 10);
      var top = rows.length ? Math.max.apply(null, rows.map(function (r) { return F.num(r[metrics[0]]); })) : 0;
      rows.forEach(function (r) {
        var tr = F.el("tr");
        var value = r[key];
        tr.appendChild(labelCell(prop, value));
        metrics.forEach(function (m) { tr.appendChild(F.el("td", { "class": "num" }, F.fmt(m, r[m]))); });
        if (before) { tr.appendChild(changeCell(metrics[0], { key: value, value: r[metrics[0]] }, before)); }
        var bar = F.el("td", { "class": "bar-cell", "aria-hidden": "true" });
        var fill = F.el("span", { "class": "bar-fill" });
        fill.style.width = (top ? Math.round(100 * F.num(r[metrics[0]]) / top) : 0) + "%";
        bar.appendChild(fill);
        tr.appendChild(bar);
        body.appendChild(tr);
      });
      statusLine.textContent = rows.length ? "" : "No data for this period.";
    }).catch(function (e) { statusLine.textContent = "Could not load: " + e.message; });
  }

  function initPanel(section) {
    if (section.dataset.ready) { return; }
    section.dataset.ready = "1";
    var tabs = section.querySelectorAll(".tab");
    tabs.forEach(function (t) {
      t.addEventListener("click", function () {
        tabs.forEach(function (x) { x.classList.toggle("active", x === t); });
        loadPanel(section, t);
      });
    });
    loadPanel(section, section.querySelector(".tab.active") || tabs[0]);
  }

  /* -- realtime ----------------------------------------------------------- */
  function realtime() {
    var out = document.getElementById("realtime-count");
    F.api("realtime/visitors", { site_id: base.site_id }).then(function (body) {
      var n = typeof body === "number" ? body
        : body && typeof body.visitors === "number" ? body.visitors
        : body && body.results && body.results.visitors ? body.results.visitors.value : null;
      out.textContent = n === null || n === undefined ? "–" : Number(n).toLocaleString("en");
    }).catch(function () { out.textContent = "–"; });
    var list = document.getElementById("realtime-pages");
    F.api("realtime/pages", { site_id: base.site_id }).then(function (body) {
      var rows = (body && body.results) || [];
      list.textContent = "";
      rows.slice(0, 10).forEach(function (r) {
        var li = F.el("li");
        li.appendChild(F.el("span", { "class": "rt-page" }, r.page));
        li.appendChild(F.el("span", { "class": "muted" }, " " + F.fmt("visitors", r.visitors)));
        list.appendChild(li);
      });
      if (!rows.length) { list.appendChild(F.el("li", { "class": "muted" }, "Nobody right now.")); }
    }).catch(function () { list.textContent = ""; });
  }

  /* The Properties panel's key picker: a GET form, sent as soon as a key is picked. */
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  loadTopline();
  loadChart();
  document.querySelectorAll(".panel:not(.server-only)").forEach(initPanel);
  realtime();
  setInterval(function () { if (!document.hidden) { realtime(); } }, 15000);
})();
