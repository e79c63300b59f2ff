/**
 * The dashboard page and its styles, kept as strings so that they are part of the compiled
 * output (no copy step, no build step for users). The page holds no data and no script of its
 * own: /ui/dashboard.js fills it in, writing every value with textContent.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>costtrace</title>
<link rel="icon" href="/ui/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/dashboard.css">
<script type="module" src="/ui/dashboard.js"></script>
</head>
<body>
<header>
  <h1>costtrace</h1>
  <nav aria-label="Spend by">
    <span class="label">Spend by</span>
    <button type="button" data-dim="route" aria-pressed="true">route</button>
    <button type="button" data-dim="commit" aria-pressed="false">commit</button>
    <button type="button" data-dim="model" aria-pressed="false">model</button>
    <button type="button" data-dim="tenant" aria-pressed="false">tenant</button>
  </nav>
  <label class="range">Range
    <select id="range">
      <option value="1h" selected>last hour</option>
      <option value="6h">last 6 hours</option>
      <option value="24h">last 24 hours</option>
      <option value="7d">last 7 days</option>
    </select>
  </label>
  <span id="updated" class="muted" aria-live="polite"></span>
</header>
<p id="error" class="error" role="alert" hidden></p>
<main>
  <section class="wide" aria-labelledby="spend-title">
    <h2 id="spend-title">Spend over time by <span id="spend-dim">route</span> <span id="spend-total" class="muted"></span></h2>
    <div id="spend-chart" class="chart"></div>
    <ul id="spend-legend" class="legend"></ul>
  </section>
  <section aria-labelledby="top-title">
    <h2 id="top-title">Top routes</h2>
    <table id="top-routes">
      <thead><tr><th>route</th><th class="num">cost (USD)</th><th class="num">requests</th><th class="num">per request</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section aria-labelledby="health-title">
    <h2 id="health-title">Pipeline health</h2>
    <dl id="health" class="tiles"></dl>
    <p id="health-lag" class="muted"></p>
  </section>
  <section class="wide" aria-labelledby="coverage-title">
    <h2 id="coverage-title">Pricing coverage <span id="coverage-total" class="muted"></span></h2>
    <table id="coverage">
      <thead><tr><th>service</th><th>model</th><th>emitter</th><th class="num">priced exactly</th><th class="num">usage spans</th><th class="num">upper bound</th><th class="num">unpriced</th><th class="num">not charged again</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="wide" aria-labelledby="bill-title">
    <h2 id="bill-title">Bill vs traced <span class="muted">· last 30 days</span> <span id="bill-total" class="muted"></span></h2>
    <table id="bill">
      <thead><tr><th>provider</th><th>model</th><th class="num">billed</th><th class="num">traced</th><th class="num">drift</th><th class="num">untraced</th><th class="num">cache / tier</th><th class="num">unpriced</th><th class="num">rate</th><th class="num">timing</th><th class="num">unexplained</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="bill-notes" class="muted"></p>
  </section>
  <section aria-labelledby="budgets-title">
    <h2 id="budgets-title">Budgets</h2>
    <div id="budgets"></div>
  </section>
  <section aria-labelledby="throttles-title">
    <h2 id="throttles-title">Active throttles</h2>
    <table id="throttles">
      <thead><tr><th>budget</th><th>scope</th><th>action</th><th class="num">spend / limit</th><th>since</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<footer class="muted">Reads the aggregator's query API: /api/v1/costs, /api/v1/top/routes, /api/v1/health, /api/v1/coverage, /api/v1/reconcile, /v1/budgets, /v1/throttles. Refreshes every 10 s.</footer>
</body>
</html>
`;

/** A small icon, so that browsers do not ask for /favicon.ico. */
export const DASHBOARD_FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#3b6fd8"/><rect x="3" y="9" width="2" height="4" fill="#fff"/><rect x="7" y="6" width="2" height="7" fill="#fff"/><rect x="11" y="3" width="2" height="10" fill="#fff"/></svg>
`;

const PALETTE = ['#3b6fd8', '#e07b39', '#3aa76d', '#c94f6d', '#8a63c9', '#2aa3b5', '#b58b2a', '#9aa0a6'];

export const DASHBOARD_CSS = `:root {
  color-scheme: light;
  --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f7f8fa; --card: #fff; --accent: #3b6fd8;
  --ok: #2e8b57; --warn: #c9861a; --bad: #c4314b;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 16px; padding: 12px 20px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0 12px 0 0; letter-spacing: .02em; }
h2 { font-size: 14px; margin: 0 0 10px; font-weight: 600; }
nav { display: flex; align-items: center; gap: 4px; }
nav .label { color: var(--muted); margin-right: 4px; }
button { font: inherit; padding: 4px 10px; border: 1px solid var(--line); background: var(--card); border-radius: 6px; cursor: pointer; color: var(--fg); }
button[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: #fff; }
select { font: inherit; padding: 3px 6px; border-radius: 6px; border: 1px solid var(--line); background: var(--card); }
.range { color: var(--muted); display: flex; gap: 6px; align-items: center; }
.muted { color: var(--muted); font-weight: normal; }
.error { margin: 12px 20px 0; padding: 8px 12px; border-radius: 6px; background: #fdecee; color: var(--bad); }
main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; padding: 16px 20px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
footer { padding: 0 20px 16px; font-size: 12px; }
.chart svg { display: block; width: 100%; height: auto; }
.chart .axis { stroke: var(--line); }
.chart text { fill: var(--muted); font-size: 11px; }
.chart .empty { fill: var(--muted); font-size: 13px; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 16px; padding: 0; margin: 8px 0 0; }
.legend li { display: flex; align-items: center; gap: 6px; max-width: 100%; }
.legend .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 28em; }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; flex: none; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { text-align: left; padding: 5px 6px; border-bottom: 1px solid var(--line); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bar { width: 22%; }
th:last-child:empty { width: 22%; }
td.none { color: var(--muted); text-align: center; }
#throttles td { white-space: normal; overflow-wrap: anywhere; vertical-align: top; }
#throttles th:nth-child(1) { width: 24%; } #throttles th:nth-child(2) { width: 34%; }
#throttles th:nth-child(3) { width: 12%; } #throttles th:nth-child(4) { width: 18%; }
.bar svg { display: block; width: 100%; height: 10px; }
.bar .track { fill: var(--line); }
.bar .fill { fill: var(--accent); }
.tiles { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 8px; margin: 0; }
.tiles div { border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; }
.tiles dt { color: var(--muted); font-size: 12px; }
.tiles dd { margin: 0; font-size: 18px; font-variant-numeric: tabular-nums; }
.tiles .ok dd { color: var(--ok); }
.tiles .warn dd { color: var(--warn); }
td.warn { color: var(--warn); }
.tiles .bad dd { color: var(--bad); }
.budget { margin-bottom: 12px; }
.budget .head { display: flex; justify-content: space-between; gap: 8px; }
.budget .key { display: grid; grid-template-columns: minmax(0, 1fr) 2fr; gap: 2px 10px; align-items: center; margin-top: 6px; }
.budget .key .what { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.budget .key .detail { grid-column: 1 / -1; font-size: 12px; color: var(--muted); }
.budget .fill.warn { fill: var(--warn); }
.budget .fill.bad { fill: var(--bad); }
${PALETTE.map((c, i) => `.s${i} { fill: ${c}; background: ${c}; }`).join('\n')}
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
`;
