// Progressive extras: the dashboard's open and latest sessions refresh every 30 s.
// Pages work without it.
"use strict";
(function () {
  const table = document.getElementById("live-sessions");
  const running = document.getElementById("open-sessions");
  if (!table || !window.fetch) return;
  const fmt = (iso) => new Date(iso).toLocaleString(document.documentElement.lang, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  const eur = (cents) => new Intl.NumberFormat("nl-NL", { style: "currency", currency: "EUR" })
    .format(cents / 100);
  function row(texts) {
    const tr = document.createElement("tr");
    for (const text of texts) {
      const cell = document.createElement("td");
      cell.textContent = text; // text, never HTML: ids and card labels come from the field
      tr.appendChild(cell);
    }
    return tr;
  }
  function showOpen(items) {
    if (!running) return;
    const rows = items.map((item) => {
      const tr = row(item.cells);
      if (!item.live) tr.className = "stale";
      return tr;
    });
    if (!rows.length) {
      const tr = row([running.dataset.none]);
      tr.firstChild.colSpan = 6;
      rows.push(tr);
    }
    running.tBodies[0].replaceChildren(...rows);
  }
  async function refresh() {
    try {
      const response = await fetch(table.dataset.source, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      showOpen(data.open);
      if (!data.sessions.length) return;
      table.tBodies[0].replaceChildren(...data.sessions.map((s) => row([
        s.charge_point, fmt(s.started_at), fmt(s.stopped_at),
        (s.energy_wh / 1000).toFixed(2).replace(".", ","), eur(s.cost_cents)])));
    } catch (err) { /* offline for a moment: try again next round */ }
  }
  setInterval(refresh, 30000);
})();
