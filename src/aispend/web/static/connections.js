// Keeps the Connections table live: polls /api/v1/connections while a sync runs.
(function () {
  "use strict";
  var table = document.getElementById("connections");
  if (!table) { return; }
  function pct(value) { return value === null ? "–" : value.toFixed(1) + "%"; }
  function refresh() {
    fetch("/api/v1/connections", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (items) {
        if (!items) { return; }
        var busy = false;
        items.forEach(function (c) {
          var row = table.querySelector('tr[data-name="' + CSS.escape(c.name) + '"]');
          if (!row) { busy = true; return; }  // a new connection: the next reload shows it
          row.querySelector(".c-status").textContent = c.syncing ? "syncing" : c.status;
          row.querySelector(".c-through").textContent = c.data_complete_through || "not yet";
          row.querySelector(".c-last").textContent = c.last_sync_at ? c.last_sync_at.slice(0, 16).replace("T", " ") + " UTC" : "never";
          var bar = row.querySelector("progress");
          if (bar && c.backfill_percent !== null) { bar.value = c.backfill_percent; }
          row.querySelector(".c-pct").textContent = pct(c.backfill_percent);
          row.querySelector(".c-error").textContent = c.last_error ? c.last_error + " " + (c.next_step || "") : "";
          row.setAttribute("data-syncing", c.syncing ? "true" : "false");
          busy = busy || c.syncing || c.backfill_percent === null && c.status === "active";
        });
        if (busy) { setTimeout(refresh, 1000); }
      });
  }
  refresh();
})();
// Disconnecting deletes the key: ask first, in words that say the data stays.
document.querySelectorAll("form.disconnect").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
});
