/* Annotations on the dashboard's chart, as a uPlot plugin (uPlot's own way to
 * add to a chart: hooks run on every redraw). One marker per annotated day,
 * its notes in a tooltip and in a label shown on hover. The notes are read
 * from the server-rendered list (#annotation-list) as text and written with
 * textContent, never as HTML. */
(function () {
  "use strict";
  var F = window.Footfall;
  if (!F) { return; }

  /* [{day: "2026-11-30", texts: ["Launched pricing page"]}], days in page order */
  function readNotes() {
    var byDay = {}, order = [];
    document.querySelectorAll("#annotation-list li[data-date]").forEach(function (li) {
      var day = li.dataset.date;
      var text = li.querySelector(".annotation-text");
      if (!byDay[day]) { byDay[day] = []; order.push(day); }
      byDay[day].push(text ? text.textContent : "");
    });
    return order.map(function (day) { return { day: day, texts: byDay[day] }; });
  }

  /* The chart's x for a local day: buckets are local times written as UTC (see
   * dashboard.js), and a monthly chart has one bucket per month. */
  function xOf(day, interval) {
    var ms = Date.parse((interval === "month" ? day.slice(0, 7) + "-01" : day) + "T00:00:00Z");
    return isNaN(ms) ? null : ms / 1000;
  }

  function annotationPlugin(interval) {
    var notes = readNotes();
    var layer = null;

    function draw(u) {
      if (!layer) {
        layer = F.el("div", { "class": "annotation-layer" });
        u.over.appendChild(layer);
      }
      layer.textContent = "";
      var min = u.scales.x.min, max = u.scales.x.max;
      notes.forEach(function (note) {
        var x = xOf(note.day, interval);
        if (x === null || min === null || x < min || x > max) { return; }
        var text = note.day + ": " + note.texts.join(" \u00b7 ");
        var mark = F.el("div", { "class": "annotation-marker", "data-date": note.day, title: text });
        mark.style.left = Math.round(u.valToPos(x, "x")) + "px";
        mark.appendChild(F.el("span", { "class": "annotation-flag", tabindex: "0", "aria-label": text },
          note.texts.length > 1 ? String(note.texts.length) : ""));
        mark.appendChild(F.el("span", { "class": "annotation-label" }, text));
        layer.appendChild(mark);
      });
    }

    return { hooks: { draw: [draw] } };
  }

  F.annotationPlugin = annotationPlugin;
})();
