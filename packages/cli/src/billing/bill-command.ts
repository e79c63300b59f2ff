/**
 * `costtrace bill import <format> FILE... [--account A] [--dry-run]` and `costtrace bill imports`:
 * bills into the store, and what is there.
 */
import { BILL_SOURCES, BillingImportError, formatScaled, MONEY_SCALE, openCostAggregateProblem } from '@costtrace/core';
import type { BillSource } from '@costtrace/core';
import type { BillStore } from '@costtrace/store';
import { parseLine } from '../args.js';
import type { CommandOutput } from '../command-args.js';
import { renderRows } from '../table-format.js';
import { importBillFiles } from './bill-import.js';
import type { BillImportSummary } from './bill-import.js';

export const BILL_USAGE = `costtrace bill import <${BILL_SOURCES.join('|')}> FILE... [--account A] [--dry-run]
       costtrace bill import opencost FILE... [--aggregate namespace] [--account CLUSTER] [--currency USD] [--dry-run]
       costtrace bill fetch <openai|anthropic> [--since 30d] [--until T] [--account A] [--dry-run]
       costtrace bill fetch opencost --url URL [--window 7d] [--aggregate namespace] [--account CLUSTER] [--dry-run]
       costtrace bill imports [--limit 50]`;

export const BILL_HELP = `usage: ${BILL_USAGE}

Imports what the providers billed, to compare with the spans (costtrace reconcile):
  openai-usage     OpenAI organization Usage API pages (completions, embeddings), saved as JSON
  openai-costs     OpenAI organization Costs API pages
  anthropic-usage  Anthropic Admin API usage report pages (messages)
  anthropic-cost   Anthropic Admin API cost report pages
  focus            a FinOps FOCUS 1.x export (AWS Data Exports FOCUS, Azure, GCP), CSV or Parquet
  aws-cur          an AWS Cost and Usage Report 2.0 export, CSV or Parquet
  opencost         OpenCost allocation API responses (GET /allocation): a Kubernetes cluster's
                   cost per window step, namespace (or label…) and component, idle included; for
                   costtrace chargeback --cluster-cost opencost
A JSON file holds one page, a JSON array of pages, or one page per line (JSON Lines).

One import replaces, for every UTC day it covers, what earlier imports of the same format and
account held: importing the same period again changes nothing, and a restated bill replaces the
first. Give all files of one export to one import. Bad input imports nothing; the error names
the file, line and field.

options:
  --account A   the billing account the API reports belong to (exports name their own); for
                opencost the cluster (default: each allocation's properties.cluster)
  --dry-run     read and check everything, write nothing
  --aggregate A opencost: what the report is aggregated by, as its aggregate parameter
                (namespace, label:team, controller, pod…); default namespace
  --currency C  opencost: the currency OpenCost is configured with (ISO 4217); default USD

Exit codes: 0 ok, 1 failed (bad input, store unreachable), 2 usage error.`;

function summaryText(s: BillImportSummary): string {
  const days = [...s.days.values()].flat();
  const first = Math.min(...days);
  const last = Math.max(...days);
  const date = (t: number): string => new Date(t * 1000).toISOString().slice(0, 10);
  const costs = [...s.billedCost].map(([currency, pico]) => `${formatScaled(pico, MONEY_SCALE)} ${currency}`);
  const lines = [
    `${s.dryRun ? 'checked (dry run, nothing written)' : 'imported'} ${s.lines} ${s.source} line(s) from ${s.origins.join(', ')}` +
      (days.length > 0 ? `, ${days.length} account-day(s) ${date(first)} .. ${date(last)}` : ''),
  ];
  if (costs.length > 0) lines.push(`billed cost: ${costs.join(', ')}`);
  if (s.notes.rounded > 0)
    lines.push(`${s.notes.rounded} amount(s) had more than 12 decimals: rounded half to even to 12`);
  if (s.notes.empty > 0) lines.push(`${s.notes.empty} row(s) or result(s) carried nothing and were skipped`);
  if (!s.dryRun) lines.push(`import id ${s.importId}`);
  return `${lines.join('\n')}\n`;
}

export async function runBillImport(
  argv: readonly string[],
  deps: { readonly store: BillStore; readonly output: CommandOutput; readonly nowMs?: number },
): Promise<number> {
  const parsed = parseLine(
    argv,
    {
      account: { type: 'string' },
      'dry-run': { type: 'boolean' },
      aggregate: { type: 'string' },
      currency: { type: 'string' },
    },
    { max: 1001 },
  );
  if (!parsed.ok) {
    deps.output.err(`costtrace bill import: ${parsed.message}\nusage: ${BILL_USAGE}\n`);
    return 2;
  }
  const [format, ...files] = parsed.value.positionals;
  if (format === undefined || !(BILL_SOURCES as readonly string[]).includes(format)) {
    deps.output.err(
      `costtrace bill import: the first word is the format: ${BILL_SOURCES.join(', ')}\nusage: ${BILL_USAGE}\n`,
    );
    return 2;
  }
  if (files.length === 0) {
    deps.output.err(`costtrace bill import: name the file(s) to import\nusage: ${BILL_USAGE}\n`);
    return 2;
  }
  const account = parsed.value.options.get('account')?.[0];
  if (account !== undefined && !/^[\w.:@/-]{1,128}$/.test(account)) {
    deps.output.err('costtrace bill import: --account: letters, digits and . _ - : @ / (at most 128)\n');
    return 2;
  }
  const aggregate = parsed.value.options.get('aggregate')?.[0];
  const currency = parsed.value.options.get('currency')?.[0];
  if ((aggregate !== undefined || currency !== undefined) && format !== 'opencost') {
    deps.output.err('costtrace bill import: --aggregate and --currency are options of the opencost format\n');
    return 2;
  }
  const aggregateProblem = aggregate === undefined ? undefined : openCostAggregateProblem(aggregate);
  if (aggregateProblem !== undefined) {
    deps.output.err(`costtrace bill import: --aggregate: ${aggregateProblem}\n`);
    return 2;
  }
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) {
    deps.output.err('costtrace bill import: --currency: an ISO 4217 code in capitals, such as USD or EUR\n');
    return 2;
  }
  try {
    const summary = await importBillFiles(deps.store, format as BillSource, files, {
      account,
      aggregate,
      currency,
      dryRun: parsed.value.options.has('dry-run'),
      nowMs: deps.nowMs,
    });
    deps.output.out(summaryText(summary));
    return 0;
  } catch (err) {
    if (!(err instanceof BillingImportError)) throw err;
    deps.output.err(`costtrace bill import: ${err.message} (nothing imported)\n`);
    return 1;
  }
}

export async function runBillImports(
  argv: readonly string[],
  deps: { readonly store: BillStore; readonly output: CommandOutput },
): Promise<number> {
  const parsed = parseLine(
    argv,
    { limit: { type: 'string' }, format: { type: 'string', choices: ['table', 'json', 'csv'] } },
    { max: 0 },
  );
  if (!parsed.ok) {
    deps.output.err(`costtrace bill imports: ${parsed.message}\nusage: ${BILL_USAGE}\n`);
    return 2;
  }
  const limitText = parsed.value.options.get('limit')?.[0] ?? '50';
  if (!/^\d{1,5}$/.test(limitText) || Number(limitText) === 0) {
    deps.output.err('costtrace bill imports: --limit: a number of rows, 1 to 99999\n');
    return 2;
  }
  const rows = await deps.store.billImports(Number(limitText));
  const format = (parsed.value.options.get('format')?.[0] ?? 'table') as 'table' | 'json' | 'csv';
  deps.output.out(
    renderRows(
      format,
      ['day', 'source', 'account', 'lines', 'imported at', 'current', 'files', 'import id'],
      rows.map((r) => [
        new Date(r.day * 1000).toISOString().slice(0, 10),
        r.source,
        r.account === '' ? '(none)' : r.account,
        r.lines,
        new Date(Number(BigInt(r.importedAtMicros) / 1000n)).toISOString().slice(0, 19).replace('T', ' '),
        r.current ? 'yes' : 'replaced',
        r.origin,
        r.importId,
      ]),
    ),
  );
  return 0;
}
