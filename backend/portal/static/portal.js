// Progressive extras: the dashboard's latest sessions refresh every 30 s. Pages work without it.
"use strict";
(function () {
  const table = document.getElementById("live-sessions");
  if (!table || !window.fetch) return;
  const fmt = (iso) => new Date(iso).toLocaleString(document.documentElement.lang, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  const eur = (cents) => new Intl.NumberFormat("nl-NL", { style: "currency", currency: "EUR" })
    .format(cents / 100);
  async function refresh() {
    try {
      const response = await fetch(table.dataset.source, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      if (!data.sessions.length) return;
      const body = table.tBodies[0];
      body.replaceChildren(...data.sessions.map((s) => {
        const row = document.createElement("tr");
        for (const text of [s.charge_point, fmt(s.started_at), fmt(s.stopped_at),
          (s.energy_wh / 1000).toFixed(2).replace(".", ","), eur(s.cost_cents)]) {
          const cell = document.createElement("td");
          cell.textContent = text; // text, never HTML: charge point ids come from the field
          row.appendChild(cell);
        }
        return row;
      }));
    } catch (err) { /* offline for a moment: try again next round */ }
  }
  setInterval(refresh, 30000);
})();
