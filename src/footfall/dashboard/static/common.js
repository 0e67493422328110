/* Shared helpers for the dashboard pages. Everything that came from the
 * network is written with textContent or as an attribute value, never as
 * HTML; links are only made from http(s) URLs. */
(function () {
  "use strict";

  var LABELS = {
    visitors: "Visitors", visits: "Visits", pageviews: "Pageviews", events: "Events",
    bounce_rate: "Bounce rate", visit_duration: "Visit duration", views_per_visit: "Views per visit",
    requests: "Requests", bytes: "Transferred", duration_p50: "Median time",
    duration_p95: "p95 time", error_rate: "Error rate", conversion_rate: "Conversion",
    total_revenue: "Revenue", average_revenue: "Average revenue"
  };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function num(value) {
    return typeof value === "number" && isFinite(value) ? value : 0;
  }

  function fmt(metric, value) {
    if (value === null || value === undefined || value === "") { return "–"; }
    if (typeof value === "object") { return money(value); }
    var v = Number(value);
    if (!isFinite(v)) { return String(value); }
    switch (metric) {
      case "bounce_rate": case "error_rate": case "conversion_rate":
        return (Math.round(v * 10) / 10) + "%";
      case "visit_duration":
        var s = Math.round(v);
        return s >= 60 ? Math.floor(s / 60) + "m " + (s % 60) + "s" : s + "s";
      case "duration_p50": case "duration_p95":
        return (v >= 1000 ? (v / 1000).toFixed(2) + " s" : Math.round(v) + " ms");
      case "bytes":
        var units = ["B", "kB", "MB", "GB", "TB"], i = 0;
        while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
        return (i ? v.toFixed(1) : v) + " " + units[i];
      case "views_per_visit":
        return v.toFixed(2);
      default:
        return Math.round(v).toLocaleString("en");
    }
  }

  /* A revenue metric: {"value": 12.5, "currency": "EUR"} (the currency as the goal saved it). */
  function money(entry) {
    var v = Number(entry.value);
    if (!isFinite(v)) { return "–"; }
    var code = typeof entry.currency === "string" && /^[A-Z]{3}$/.test(entry.currency) ? entry.currency : "";
    try {
      if (code) { return v.toLocaleString("en", { style: "currency", currency: code }); }
    } catch (e) { /* a code the browser does not know: the number and the code */ }
    return v.toFixed(2) + (code ? " " + code : "");
  }

  function baseParams(root) {
    var p = { site_id: root.dataset.site, period: root.dataset.period };
    if (root.dataset.date) { p.date = root.dataset.date; }
    if (root.dataset.filters) { p.filters = root.dataset.filters; }
    if (root.dataset.withImported) { p.with_imported = root.dataset.withImported; }
    return p;
  }

  function query(params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (Array.isArray(v)) { v.forEach(function (x) { q.append(k, x); }); }
      else if (v !== undefined && v !== null && v !== "") { q.append(k, v); }
    });
    return q.toString();
  }

  /* One notice above the page while any request waits to be retried (a 503
   * with Retry-After: summaries catching up, or every stats slot taken). */
  var retrying = 0;
  function retryNotice(msg) {
    var node = document.getElementById("ff-retry-notice");
    if (!retrying) { if (node) { node.remove(); } return; }
    if (!node) {
      node = el("p", { "class": "notice", id: "ff-retry-notice", role: "status" });
      var main = document.querySelector("main");
      (main ? main.parentNode : document.body).insertBefore(node, main);
    }
    if (msg) { node.textContent = msg; }
  }

  function api(endpoint, params, tries) {
    tries = tries || 0;
    return fetch("/api/v1/stats/" + endpoint + "?" + query(params), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) {
      return r.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        if (!r.ok) {
          var msg = body && (body.error || body.detail) ? (body.error || body.detail) : "HTTP " + r.status;
          msg = typeof msg === "string" ? msg : JSON.stringify(msg);
          var wait = parseInt(r.headers.get("Retry-After") || "", 10);
          if (r.status === 503 && wait > 0 && tries < 20) {
            retrying += 1;
            retryNotice(msg);
            return new Promise(function (done) { setTimeout(done, Math.min(wait, 60) * 1000); })
              .then(function () {
                retrying -= 1;
                return api(endpoint, params, tries + 1);
              });
          }
          retryNotice("");
          throw new Error(msg);
        }
        retryNotice("");
        return body;
      });
    });
  }

  /* A CSV link for one endpoint: /<site>/export.csv?endpoint=...&... */
  function exportUrl(root, endpoint, params) {
    var p = Object.assign({}, baseParams(root), params, { endpoint: endpoint });
    delete p.site_id;
    return "/" + root.dataset.sitePath + "/export.csv?" + query(p);
  }

  function httpUrl(text) {
    if (typeof text !== "string" || !/^https?:\/\//i.test(text)) { return null; }
    try {
      var u = new URL(text);
      return (u.protocol === "http:" || u.protocol === "https:") ? u.href : null;
    } catch (e) { return null; }
  }

  /* This page's URL with one more filter (kept in the URL, so it can be shared). */
  function withFilter(prop, value) {
    var value_ = String(value);
    if (value_ === "" || /[;|]/.test(value_) || value_.length > 500) { return null; }
    var url = new URL(window.location.href);
    var cond = prop + "==" + value_;
    var current = url.searchParams.get("filters");
    var parts = current ? current.split(";") : [];
    if (parts.indexOf(cond) < 0) { parts.push(cond); }
    url.searchParams.set("filters", parts.join(";"));
    return url.pathname + url.search;
  }

  window.Footfall = {
    LABELS: LABELS, el: el, fmt: fmt, num: num, api: api, query: query,
    baseParams: baseParams, exportUrl: exportUrl, httpUrl: httpUrl, withFilter: withFilter
  };
})();
