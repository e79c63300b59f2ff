// costtrace dashboard: reads the query API of the server it came from and draws the charts as
// inline SVG. Every value from the API reaches the DOM through textContent or an attribute.
// A browser module (type-checked with the DOM library, built to dist/browser/dashboard.js and
// served as /ui/dashboard.js): no imports, no framework, nothing fetched from elsewhere.

/*
 * The API's documents come from @costtrace/client. Type references, not an import statement: the
 * page loads this file as a module, but it stays a plain script with nothing imported at run time.
 */
type CostRow = import('@costtrace/client').CostRow;
type CoverageRow = import('@costtrace/client').CoverageRow;
type BudgetStatus = import('@costtrace/client').BudgetStatus;
type Throttle = import('@costtrace/client').ActiveThrottle;
type BudgetDoc = import('@costtrace/client').BudgetList['budgets'][number];
/** `GET /api/v1/health` (only the fields this page reads). */
interface Health {
  readonly ready: boolean;
  readonly checks?: Readonly<Record<string, boolean>>;
  readonly consumer: {
    readonly lag: readonly { readonly partition: string; readonly messages: number }[];
    readonly lag_total: number;
    readonly paused_partitions: number;
  };
  readonly spans: { readonly received: number; readonly in: number; readonly out: number; readonly unpriced: number };
  readonly coverage: { readonly share: number | null };
  readonly dead_letter: { readonly messages: number };
  readonly insert_failures: number;
}
type Rows<T> = { readonly rows?: readonly T[] };
/** `GET /api/v1/reconcile` (only the fields this page reads). */
interface ReconcileBody {
  readonly rows?: readonly {
    readonly dimensions: { readonly provider?: string; readonly model?: string };
    readonly currency: string;
    readonly billedCost?: string;
    readonly tracedCost: string;
    readonly drift?: string;
    readonly untracedListCost?: string;
    readonly categories?: {
      readonly untraced: string;
      readonly cacheOrTier: string;
      readonly unpriced: string;
      readonly rate: string;
      readonly timing: string;
      readonly unexplained: string;
    };
  }[];
  readonly notes?: readonly string[];
}
type Attrs = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** An API answer that was not 2xx. */
class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
const SVG = 'http://www.w3.org/2000/svg';
const DIMENSIONS: readonly string[] = ['route', 'commit', 'model', 'tenant'];
type TimeRange = '1h' | '6h' | '24h' | '7d';
const BUCKET_FOR_RANGE: Readonly<Record<TimeRange, string>> = { '1h': '1m', '6h': '5m', '24h': '15m', '7d': '6h' };
const BUCKET_SECONDS: Readonly<Record<string, number>> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21600 };
const RANGE_SECONDS: Readonly<Record<TimeRange, number>> = { '1h': 3600, '6h': 21600, '24h': 86400, '7d': 604800 };

function isRange(value: string | null): value is TimeRange {
  return value !== null && Object.prototype.hasOwnProperty.call(RANGE_SECONDS, value);
}
const MAX_SERIES = 7;
const REFRESH_MS = 10000;

const state: { dim: string; range: TimeRange; seq: number } = { dim: 'route', range: '1h', seq: 0 };

function $(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the page has no #${id}`);
  return node;
}

function el(tag: string, attrs?: Attrs, text?: string | number): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function svgEl(tag: string, attrs?: Attrs, text?: string | number): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** The body of the table #id. */
function tableBody(id: string): HTMLTableSectionElement {
  const body = $(id).querySelector('tbody');
  if (body === null) throw new Error(`#${id} has no tbody`);
  return body;
}

function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const error = (body as { error?: { message?: unknown } } | null)?.error?.message;
    const message = typeof error === 'string' && error !== '' ? error : res.statusText;
    throw new ApiError(path + ': ' + res.status + ' ' + message, res.status);
  }
  return body as T;
}

function usd(value: string | number, digits?: number): string {
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  const d = digits !== undefined ? digits : n !== 0 && Math.abs(n) < 0.01 ? 6 : n < 100 ? 4 : 2;
  return '$' + n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

function count(value: string | number): string {
  return Number(value).toLocaleString('en-US');
}

function label(value: string | null | undefined): string {
  return value === '' || value === undefined || value === null ? '(none)' : String(value);
}

function timeLabel(seconds: number, spanSeconds: number): string {
  const d = new Date(seconds * 1000);
  const hm = String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  if (spanSeconds <= 86400) return hm;
  return d.getMonth() + 1 + '/' + d.getDate() + ' ' + hm;
}

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(max)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function bar(fraction: number, fillClass?: string): SVGElement {
  const s = svgEl('svg', { viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  s.appendChild(svgEl('rect', { class: 'track', x: 0, y: 0, width: 100, height: 10, rx: 2 }));
  const w = Math.max(0, Math.min(1, fraction)) * 100;
  s.appendChild(
    svgEl('rect', { class: 'fill ' + (fillClass || ''), x: 0, y: 0, width: w.toFixed(2), height: 10, rx: 2 }),
  );
  return s;
}

// ---- spend over time -------------------------------------------------------------------------

function drawSpend(rows: readonly CostRow[], dim: string, range: TimeRange): void {
  const step = BUCKET_SECONDS[BUCKET_FOR_RANGE[range]] ?? 60;
  const now = Math.floor(Date.now() / 1000);
  const end = Math.floor(now / step) * step;
  const start = end - Math.ceil(RANGE_SECONDS[range] / step) * step + step;
  const totals = new Map<string, number>();
  for (const r of rows) {
    const key = label(r.dimensions[dim]);
    totals.set(key, (totals.get(key) || 0) + Number(r.cost));
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map((e) => e[0]);
  const shown = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const series = ranked.length > shown.length ? [...shown, 'other'] : shown;
  const seriesOf = (key: string): string => (shown.includes(key) ? key : 'other');

  const buckets = new Map<number, Map<string, number>>();
  for (let t = start; t <= end; t += step) buckets.set(t, new Map());
  for (const r of rows) {
    const t = Math.floor(Number(r.bucket) / step) * step;
    const m = buckets.get(t);
    if (m === undefined) continue;
    const key = seriesOf(label(r.dimensions[dim]));
    m.set(key, (m.get(key) || 0) + Number(r.cost));
  }
  let max = 0;
  for (const m of buckets.values()) {
    let sum = 0;
    for (const v of m.values()) sum += v;
    max = Math.max(max, sum);
  }
  const top = niceMax(max);

  const W = 900;
  const H = 260;
  const L = 64;
  const R = 8;
  const T = 8;
  const B = 24;
  const plotW = W - L - R;
  const plotH = H - T - B;
  const n = buckets.size;
  const slot = plotW / n;
  const barW = Math.max(1, slot * 0.8);

  const chart = svgEl('svg', {
    id: 'spend-svg',
    viewBox: '0 0 ' + W + ' ' + H,
    role: 'img',
    'aria-label': 'Spend over time by ' + dim,
    'data-dimension': dim,
    'data-range': range,
    'data-series-count': series.length,
  });
  for (let i = 0; i <= 4; i++) {
    const y = T + plotH - (plotH * i) / 4;
    chart.appendChild(svgEl('line', { class: 'axis', x1: L, x2: W - R, y1: y, y2: y }));
    chart.appendChild(svgEl('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, usd((top * i) / 4)));
  }
  const times = [...buckets.keys()];
  const every = Math.max(1, Math.ceil(n / 8));
  times.forEach((t, i) => {
    if (i % every !== 0) return;
    const x = L + slot * i + slot / 2;
    chart.appendChild(svgEl('text', { x: x, y: H - 6, 'text-anchor': 'middle' }, timeLabel(t, RANGE_SECONDS[range])));
  });
  const g = svgEl('g', { class: 'bars' });
  times.forEach((t, i) => {
    let y = T + plotH;
    const m = buckets.get(t) ?? new Map<string, number>();
    series.forEach((key, s) => {
      const v = m.get(key) || 0;
      if (v <= 0) return;
      const h = Math.max(0.5, (v / top) * plotH);
      y -= h;
      const rect = svgEl('rect', {
        class: 's' + s,
        x: (L + slot * i + (slot - barW) / 2).toFixed(2),
        y: y.toFixed(2),
        width: barW.toFixed(2),
        height: h.toFixed(2),
        'data-series': key,
        'data-bucket': t,
        'data-cost': v,
      });
      rect.appendChild(svgEl('title', {}, key + ' · ' + timeLabel(t, RANGE_SECONDS[range]) + ' · ' + usd(v)));
      g.appendChild(rect);
    });
  });
  chart.appendChild(g);
  if (rows.length === 0) {
    chart.appendChild(
      svgEl(
        'text',
        { class: 'empty', x: L + plotW / 2, y: T + plotH / 2, 'text-anchor': 'middle' },
        'No spend in this range yet',
      ),
    );
  }
  const holder = $('spend-chart');
  clear(holder);
  holder.appendChild(chart);

  const legend = $('spend-legend');
  clear(legend);
  let grand = 0;
  for (const v of totals.values()) grand += v;
  series.forEach((key, s) => {
    let sum = 0;
    if (key === 'other') for (const [k, v] of totals) sum += shown.includes(k) ? 0 : v;
    else sum = totals.get(key) || 0;
    const li = el('li', { 'data-series': key });
    li.appendChild(el('span', { class: 'sw s' + s, 'aria-hidden': 'true' }));
    li.appendChild(el('span', { class: 'name', title: key }, key));
    li.appendChild(el('span', { class: 'muted' }, usd(sum)));
    legend.appendChild(li);
  });
  $('spend-dim').textContent = dim;
  $('spend-total').textContent = '· ' + usd(grand) + ' total';
}

async function loadSpend(dim: string, range: TimeRange): Promise<readonly CostRow[]> {
  const q = new URLSearchParams({ group_by: dim, bucket: BUCKET_FOR_RANGE[range], since: range, limit: '10000' });
  const body = await getJson<Rows<CostRow>>('/api/v1/costs?' + q.toString());
  return body.rows ?? [];
}

// ---- top routes ------------------------------------------------------------------------------

function drawTopRoutes(rows: readonly CostRow[]): void {
  const tbody = tableBody('top-routes');
  clear(tbody);
  if (rows.length === 0) {
    const tr = el('tr');
    tr.appendChild(el('td', { colspan: 5, class: 'none' }, 'No routes in this range'));
    tbody.appendChild(tr);
    return;
  }
  const max = Math.max(...rows.map((r) => Number(r.cost)), 0) || 1;
  for (const r of rows) {
    const name = label(r.dimensions.route);
    const tr = el('tr', { 'data-route': name, 'data-cost': r.cost });
    tr.appendChild(el('td', { title: name }, name));
    tr.appendChild(el('td', { class: 'num', title: r.cost }, usd(r.cost)));
    tr.appendChild(el('td', { class: 'num' }, count(r.requests)));
    tr.appendChild(el('td', { class: 'num' }, r.costPerRequest === null ? '–' : usd(r.costPerRequest)));
    const cell = el('td', { class: 'bar' });
    cell.appendChild(bar(Number(r.cost) / max));
    tr.appendChild(cell);
    tbody.appendChild(tr);
  }
}

// ---- pricing coverage ------------------------------------------------------------------------

function share(exact: number, spans: number): string {
  return spans === 0 ? '–' : (Math.floor((exact * 10000) / spans) / 100).toFixed(2) + '%';
}

function drawCoverage(rows: readonly CoverageRow[]): void {
  const tbody = tableBody('coverage');
  clear(tbody);
  let spans = 0;
  let exact = 0;
  for (const r of rows) {
    spans += r.usageSpans;
    exact += r.exact;
  }
  $('coverage-total').textContent =
    '· ' + share(exact, spans) + ' of ' + count(spans) + ' usage-bearing spans priced exactly';
  if (rows.length === 0) {
    const tr = el('tr');
    tr.appendChild(el('td', { colspan: 9, class: 'none' }, 'No usage-bearing spans in this range'));
    tbody.appendChild(tr);
    return;
  }
  for (const r of rows) {
    const g = r.group;
    const low = r.usageSpans > 0 && r.exact < r.usageSpans;
    const tr = el('tr', {
      'data-service': g.service,
      'data-model': g.model,
      'data-coverage': r.coverage === null ? '' : String(r.coverage),
    });
    tr.appendChild(el('td', { title: g.service }, label(g.service)));
    tr.appendChild(el('td', { title: g.model }, label(g.model)));
    tr.appendChild(el('td', { title: g.emitter }, label(g.emitter)));
    tr.appendChild(el('td', { class: 'num' + (low ? ' warn' : '') }, share(r.exact, r.usageSpans)));
    tr.appendChild(el('td', { class: 'num' }, count(r.usageSpans)));
    tr.appendChild(el('td', { class: 'num', title: 'the emitter reports no cached-token count' }, count(r.upperBound)));
    tr.appendChild(el('td', { class: 'num' }, count(r.unpriced)));
    tr.appendChild(
      el('td', { class: 'num', title: 'duplicates and roll-ups of charged spans' }, count(r.duplicates + r.rollups)),
    );
    const cell = el('td', { class: 'bar' });
    cell.appendChild(bar(r.usageSpans === 0 ? 0 : r.exact / r.usageSpans, low ? 'warn' : ''));
    tr.appendChild(cell);
    tbody.appendChild(tr);
  }
}

// ---- bill vs traced ---------------------------------------------------------------------------

/** A difference in dollars with its sign in front: +$1.20, −$0.3168. */
function signedUsd(value: string | undefined): string {
  if (value === undefined) return '–';
  const n = Number(value);
  if (n === 0) return usd(0);
  return (n > 0 ? '+' : '−') + usd(Math.abs(n));
}

/** Imported bills beside the spans (costtrace reconcile); `null`: the API serves no reconcile. */
function drawBill(body: ReconcileBody | null): void {
  const tbody = tableBody('bill');
  clear(tbody);
  const rows = body?.rows ?? [];
  let billed = 0;
  let drift = 0;
  for (const r of rows) {
    billed += Number(r.billedCost ?? 0);
    drift += Number(r.drift ?? 0);
  }
  $('bill-total').textContent =
    rows.length === 0 ? '' : '· billed ' + usd(billed) + ', drift ' + signedUsd(String(drift));
  $('bill-notes').textContent = (body?.notes ?? []).join(' · ');
  if (rows.length === 0) {
    const tr = el('tr');
    const text =
      body === null
        ? 'Reconciliation is not served here'
        : 'No bill imported: costtrace bill import (or bill fetch) brings the providers’ reports in';
    tr.appendChild(el('td', { colspan: 11, class: 'none' }, text));
    tbody.appendChild(tr);
    return;
  }
  for (const r of rows) {
    const provider = r.dimensions.provider ?? '';
    const model = r.dimensions.model ?? '';
    const c = r.categories;
    const tr = el('tr', { 'data-provider': provider, 'data-model': model, 'data-drift': r.drift ?? '' });
    tr.appendChild(el('td', { title: provider }, label(provider)));
    tr.appendChild(el('td', { title: model }, label(model)));
    tr.appendChild(el('td', { class: 'num' }, r.billedCost === undefined ? '–' : usd(r.billedCost)));
    tr.appendChild(el('td', { class: 'num' }, usd(r.tracedCost)));
    tr.appendChild(el('td', { class: 'num' + (Number(r.drift ?? 0) !== 0 ? ' warn' : '') }, signedUsd(r.drift)));
    tr.appendChild(
      el(
        'td',
        { class: 'num', title: 'billed usage no span carries, at list' },
        signedUsd(c?.untraced ?? r.untracedListCost),
      ),
    );
    tr.appendChild(el('td', { class: 'num' }, signedUsd(c?.cacheOrTier)));
    tr.appendChild(el('td', { class: 'num' }, signedUsd(c?.unpriced)));
    tr.appendChild(el('td', { class: 'num', title: 'the bill’s prices against costtrace’s' }, signedUsd(c?.rate)));
    tr.appendChild(el('td', { class: 'num' }, signedUsd(c?.timing)));
    tr.appendChild(
      el('td', { class: 'num', title: 'not split: no price, or no billed usage' }, signedUsd(c?.unexplained)),
    );
    tbody.appendChild(tr);
  }
}

async function loadBill(): Promise<ReconcileBody | null> {
  try {
    return await getJson<ReconcileBody>(
      '/api/v1/reconcile?' + new URLSearchParams({ since: '30d', by: 'provider,model' }).toString(),
    );
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

// ---- pipeline health -------------------------------------------------------------------------

function drawHealth(h: Health): void {
  const tiles = [
    ['ready', h.ready ? 'yes' : 'no', h.ready ? 'ok' : 'bad'],
    ['consumer lag', count(h.consumer.lag_total), h.consumer.lag_total > 1000 ? 'warn' : 'ok'],
    ['dead-lettered', count(h.dead_letter.messages), h.dead_letter.messages > 0 ? 'warn' : 'ok'],
    ['unpriced spans', count(h.spans.unpriced), h.spans.unpriced > 0 ? 'warn' : 'ok'],
    [
      'pricing coverage',
      h.coverage.share === null ? '–' : (h.coverage.share * 100).toFixed(2) + '%',
      h.coverage.share === null || h.coverage.share === 1 ? 'ok' : 'warn',
    ],
    ['spans received', count(h.spans.received), ''],
    ['spans in', count(h.spans.in), ''],
    ['rows stored', count(h.spans.out), ''],
    ['insert failures', count(h.insert_failures), h.insert_failures > 0 ? 'bad' : 'ok'],
  ];
  const dl = $('health');
  clear(dl);
  for (const [name, value, cls] of tiles) {
    const div = el('div', { class: cls, 'data-metric': name });
    div.appendChild(el('dt', {}, name));
    div.appendChild(el('dd', {}, value));
    dl.appendChild(div);
  }
  const checks = Object.entries(h.checks || {})
    .map((e) => e[0] + (e[1] ? ' ✓' : ' ✗'))
    .join('  ');
  const lag = h.consumer.lag.map((p) => 'p' + p.partition + ': ' + count(p.messages)).join(', ');
  $('health-lag').textContent =
    (checks ? 'checks: ' + checks + ' · ' : '') +
    (lag ? 'lag per partition: ' + lag : 'no partitions assigned yet') +
    (h.consumer.paused_partitions > 0 ? ' · paused partitions: ' + h.consumer.paused_partitions : '') +
    ' · counters since the aggregator started';
}

// ---- budgets and throttles -------------------------------------------------------------------

function drawBudgets(budgets: readonly { budget: BudgetDoc; status: BudgetStatus | null }[] | null): void {
  const holder = $('budgets');
  clear(holder);
  if (budgets === null) {
    holder.appendChild(el('p', { class: 'muted' }, 'Budgets are not enabled on this aggregator.'));
    return;
  }
  if (budgets.length === 0) {
    holder.appendChild(el('p', { class: 'muted' }, 'No budgets defined.'));
    return;
  }
  for (const { budget, status } of budgets) {
    const box = el('div', { class: 'budget', 'data-budget': budget.id });
    const head = el('div', { class: 'head' });
    head.appendChild(el('strong', {}, budget.name || budget.id));
    head.appendChild(
      el(
        'span',
        { class: 'muted' },
        usd(budget.limit_usd) + ' per ' + budget.window + (budget.per ? ' per ' + budget.per.join(', ') : ''),
      ),
    );
    box.appendChild(head);
    const keys = status ? status.keys : [];
    if (keys.length === 0) box.appendChild(el('div', { class: 'muted' }, 'no spend in the current window'));
    for (const k of keys) {
      const row = el('div', { class: 'key', 'data-scope-key': k.scope_key, 'data-percent': k.percent });
      const dims = Object.entries(k.dimensions || {})
        .map((e) => e[0] + '=' + e[1])
        .join(' ');
      row.appendChild(
        el('span', { class: 'what', title: dims }, (dims || 'all') + ' · ' + Number(k.percent).toFixed(1) + '%'),
      );
      const cell = el('span', { class: 'bar' });
      cell.appendChild(
        bar(Number(k.percent) / 100, k.throttle.engaged || k.percent >= 100 ? 'bad' : k.percent >= 80 ? 'warn' : ''),
      );
      row.appendChild(cell);
      let detail = usd(k.spend_usd) + ' of ' + usd(k.limit_usd);
      if (k.forecast) {
        detail +=
          ' · forecast ' + usd(k.forecast.projected_usd) + ' at ' + usd(k.forecast.burn_rate_usd_per_hour) + '/h';
        if (k.forecast.exhaustion_at) detail += ', exhausted ' + new Date(k.forecast.exhaustion_at).toLocaleString();
      }
      if (k.throttle.engaged) detail += ' · throttled';
      row.appendChild(el('span', { class: 'detail' }, detail));
      box.appendChild(row);
    }
    holder.appendChild(box);
  }
}

async function loadBudgets(): Promise<{ budget: BudgetDoc; status: BudgetStatus | null }[] | null> {
  let list: { readonly budgets?: readonly BudgetDoc[] };
  try {
    list = await getJson<{ readonly budgets?: readonly BudgetDoc[] }>('/v1/budgets');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
  return Promise.all(
    (list.budgets ?? []).map(async (budget) => {
      const status = await getJson<BudgetStatus>('/v1/budgets/' + encodeURIComponent(budget.id) + '/status?limit=5');
      return { budget, status };
    }),
  );
}

function drawThrottles(throttles: readonly Throttle[] | null): void {
  const tbody = tableBody('throttles');
  clear(tbody);
  if (throttles === null || throttles.length === 0) {
    const tr = el('tr');
    tr.appendChild(
      el('td', { colspan: 5, class: 'none' }, throttles === null ? 'Budgets are not enabled' : 'No active throttles'),
    );
    tbody.appendChild(tr);
    return;
  }
  for (const t of throttles) {
    const tr = el('tr', { 'data-throttle': t.id });
    const scope = Object.entries(t.scope || {})
      .map((e) => e[0] + '=' + e[1])
      .join(' ');
    tr.appendChild(el('td', { title: t.budget_id }, t.budget_name || t.budget_id));
    tr.appendChild(el('td', { title: scope }, scope || 'all'));
    tr.appendChild(el('td', {}, t.action));
    tr.appendChild(el('td', { class: 'num' }, usd(t.spend_usd) + ' / ' + usd(t.limit_usd)));
    tr.appendChild(el('td', {}, new Date(t.since).toLocaleTimeString()));
    tbody.appendChild(tr);
  }
}

async function loadThrottles(): Promise<readonly Throttle[] | null> {
  try {
    return (await getJson<{ readonly throttles?: readonly Throttle[] }>('/v1/throttles')).throttles ?? [];
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

// ---- refresh ---------------------------------------------------------------------------------

async function refresh(): Promise<void> {
  const seq = ++state.seq;
  const { dim, range } = state;
  const tasks = [
    loadSpend(dim, range).then((rows) => seq === state.seq && drawSpend(rows, dim, range)),
    getJson<Rows<CostRow>>('/api/v1/top/routes?' + new URLSearchParams({ since: range, limit: '10' }).toString()).then(
      (body) => seq === state.seq && drawTopRoutes(body.rows ?? []),
    ),
    getJson<Health>('/api/v1/health').then((h) => seq === state.seq && drawHealth(h)),
    getJson<Rows<CoverageRow>>(
      '/api/v1/coverage?' +
        new URLSearchParams({ group_by: 'service,model,emitter', since: range, limit: '50' }).toString(),
    ).then((body) => seq === state.seq && drawCoverage(body.rows ?? [])),
    loadBill().then((b) => seq === state.seq && drawBill(b)),
    loadBudgets().then((b) => seq === state.seq && drawBudgets(b)),
    loadThrottles().then((t) => seq === state.seq && drawThrottles(t)),
  ];
  const results = await Promise.allSettled(tasks);
  if (seq !== state.seq) return;
  const failed = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => (r.reason instanceof Error ? r.reason.message : String(r.reason)));
  const error = $('error');
  error.hidden = failed.length === 0;
  error.textContent = failed.join(' · ');
  $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  document.body.setAttribute('data-loaded', String(seq));
}

function readHash(): void {
  const params = new URLSearchParams(location.hash.slice(1));
  const dim = params.get('by');
  const range = params.get('range');
  if (dim !== null && DIMENSIONS.includes(dim)) state.dim = dim;
  if (isRange(range)) state.range = range;
}

function syncControls(): void {
  for (const b of document.querySelectorAll('button[data-dim]')) {
    b.setAttribute('aria-pressed', String(b.getAttribute('data-dim') === state.dim));
  }
  ($('range') as HTMLSelectElement).value = state.range;
  const hash = '#by=' + state.dim + '&range=' + state.range;
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

function start(): void {
  readHash();
  syncControls();
  for (const b of document.querySelectorAll('button[data-dim]')) {
    b.addEventListener('click', () => {
      state.dim = b.getAttribute('data-dim') ?? state.dim;
      syncControls();
      void refresh();
    });
  }
  $('range').addEventListener('change', (event) => {
    const value = (event.target as HTMLSelectElement).value;
    if (isRange(value)) state.range = value;
    syncControls();
    void refresh();
  });
  void refresh();
  setInterval(() => {
    if (!document.hidden) void refresh();
  }, REFRESH_MS);
}

start();
