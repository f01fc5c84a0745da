// Live updates of the Site and Chargers pages from the console's event stream (/console/events):
// the server renders everything; this only rewrites a few numbers as the site changes.
(function () {
  "use strict";
  var live = document.getElementById("now") || document.querySelector("[data-charger]");
  if (!live || !window.EventSource) { return; }
  var dutch = document.documentElement.lang === "nl";
  function amps(v) {
    if (v === null || v === undefined) { return "–"; }
    var text = Number(v).toFixed(1);
    return (dutch ? text.replace(".", ",") : text) + " A";
  }
  function set(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) { el.textContent = text; }
  }
  var source = new EventSource("/console/events");
  source.addEventListener("site", function (event) {
    var data = JSON.parse(event.data);
    var site = data.site;
    for (var p = 0; p < 3; p++) {
      set("grid-" + (p + 1), amps(site.grid_current_a[p]));
      set("allocated-" + (p + 1), amps(site.allocated_a[p]));
    }
    // The grid connection's bars follow the grid meter (the circuits below: on reload).
    var root = document.querySelector("[data-root]");
    if (root) {
      root.querySelectorAll(".bar-value").forEach(function (el) {
        var p = Number(el.getAttribute("data-phase"));
        var now = Math.max(0, site.grid_current_a[p] || 0);
        var meter = el.parentNode.querySelector("meter");
        if (meter) { meter.value = now; }
        var text = amps(now).replace(" A", "") + " / " + el.getAttribute("data-fuse") + " A";
        if (el.textContent !== text) { el.textContent = text; }
      });
    }
    var kw = (site.household_power_w / 1000).toFixed(1);
    set("household-w", dutch ? kw.replace(".", ",") : kw);
    document.body.setAttribute("data-updated", site.at);
    Object.keys(data.chargers).forEach(function (id) {
      var c = data.chargers[id];
      var box = document.getElementById("charger-" + id);
      if (!box) { return; }
      var fields = { status: c.status || "–", mode: c.mode, limit: amps(c.limit_a), reason: c.reason || "–" };
      Object.keys(fields).forEach(function (name) {
        var el = box.querySelector('[data-field="' + name + '"]');
        if (el && el.textContent !== fields[name]) { el.textContent = fields[name]; }
      });
    });
  });
}());
