"""The dashboard's inline stylesheet and script (no framework, nothing fetched)."""

from __future__ import annotations

CSS = """
:root { --ok: #2e7d32; --stale: #b26a00; --bad: #c62828; --muted: #666; --line: #ddd; --band: #90caf9;
        --band2: #1e88e5; font-family: system-ui, sans-serif; font-size: 14px; color: #222; }
body { margin: 0 auto; max-width: 1400px; padding: 0 16px 40px; }
h1 { margin: 16px 0 4px; font-size: 22px; } h2 { margin: 28px 0 8px; font-size: 18px; }
.muted, .note { color: var(--muted); fill: var(--muted); }
nav a { margin-right: 8px; } nav a.here { font-weight: bold; text-decoration: none; color: #222; }
.cards { display: flex; gap: 8px; margin: 10px 0; flex-wrap: wrap; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
.scroll { overflow: auto; max-height: 560px; border: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
thead th { position: sticky; top: 0; background: #f6f6f6; }
table.sortable thead th { cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } td.na { color: #aaa; text-align: right; }
.st-U { color: var(--ok); } .st-R { color: var(--stale); background: #fff8e1; }
.st-F { color: #fff; background: var(--bad); }
.state-up-to-date { color: var(--ok); } .state-stale { color: var(--stale); } .state-failed { color: var(--bad); }
.run-failed td, .run-unfinished td { color: var(--bad); } tr.bad td { color: var(--bad); }
tr.quiet td { color: var(--muted); white-space: normal; }
tr.block td { background: #f6f6f6; font-weight: 600; padding-top: 8px; }
.table-tools { margin: 6px 0; } #slate-filter { width: 280px; padding: 4px; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; } figure { margin: 0; } figure.wide { flex-basis: 100%; }
.stats { font-weight: 600; }
svg.chart { background: #fff; border: 1px solid var(--line); }
svg .grid { stroke: #eee; } svg .axis { stroke: #444; } svg .ref { stroke: #999; stroke-dasharray: 4 3; }
svg .tick, svg .lbl { font-size: 11px; fill: #444; } svg .axis-label { font-size: 12px; fill: #222; }
svg .title { font-size: 13px; font-weight: 600; fill: #222; } svg .lbl.muted { fill: var(--muted); }
svg .pt { fill: var(--band2); fill-opacity: .6; } svg .pt.out { fill: var(--bad); }
svg .pt.own { fill: #6a1b9a; fill-opacity: .55; }
svg .band-outer { fill: var(--band); fill-opacity: .45; } svg .band-inner { fill: var(--band2); fill-opacity: .55; }
svg .median { stroke: #0d47a1; stroke-width: 2; } svg .mean { fill: #fff; stroke: #0d47a1; }
svg .actual { fill: #ff6f00; stroke: #fff; } svg .median-key { fill: #0d47a1; } svg .approx-key { fill: none; }
svg .run.ok { fill: var(--ok); } svg .run.failed, svg .run.unfinished { fill: var(--bad); }
"""

SCRIPT = """
(function () {
  "use strict";
  function key(cell, numeric) {
    if (numeric) {
      var v = cell.getAttribute("data-v");
      return v === null || v === "" ? NaN : parseFloat(v);
    }
    return cell.textContent.trim().toLowerCase();
  }
  function sortTable(table, index, th) {
    var body = table.tBodies[0];
    var numeric = th.getAttribute("data-type") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index], numeric), y = key(b.cells[index], numeric);
      if (numeric) {
        if (isNaN(x) && isNaN(y)) { return 0; }
        if (isNaN(x)) { return 1; }
        if (isNaN(y)) { return -1; }
        return ascending ? x - y : y - x;
      }
      return ascending ? x.localeCompare(y) : y.localeCompare(x);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.addEventListener("click", function () { sortTable(table, index, th); });
    });
  });
  var filter = document.getElementById("slate-filter");
  var slate = document.getElementById("slate");
  if (filter && slate) {
    filter.addEventListener("input", function () {
      var needle = filter.value.trim().toLowerCase(), shown = 0;
      Array.prototype.forEach.call(slate.tBodies[0].rows, function (row) {
        var hit = !needle || row.textContent.toLowerCase().indexOf(needle) >= 0;
        row.hidden = !hit;
        if (hit) { shown += 1; }
      });
      document.getElementById("slate-count").textContent = shown + " players";
    });
  }
  document.documentElement.setAttribute("data-ready", "1");
})();
"""
