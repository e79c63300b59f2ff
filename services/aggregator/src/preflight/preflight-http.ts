import { HttpError, readJsonBody, sendJson } from '@costtrace/service-kit';
import type { RouteContext, Router } from '@costtrace/service-kit';
import { PREFLIGHT_ID_PATTERN, PREFLIGHT_STATUSES } from '@costtrace/client';
import type { PreflightList, PreflightRecord, PreflightStatus } from '@costtrace/client';
import type { PreflightService } from './preflight-service.js';

/**
 * The preflight routes (docs/budgets-and-webhooks.md#preflight):
 * POST /v1/preflight, GET /v1/preflight[/:id], POST /v1/preflight/:id/approve|reject|release.
 */

const MAX_BODY = 256 * 1024;
const BY = /^[^\s\p{Cc}]{1,128}$/u;

function preflightId(params: Readonly<Record<string, string>>): string {
  const id = params.id ?? '';
  if (!PREFLIGHT_ID_PATTERN.test(id))
    throw new HttpError(400, 'INVALID_ID', 'a preflight id is pf_ and 26 of [0-9a-z]', { field: 'id' });
  return id;
}

async function action(context: RouteContext): Promise<{ by: string; note: string | undefined }> {
  const body = await readJsonBody(context.req, MAX_BODY);
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'INVALID_ACTION', 'body must be {"by": "name", "note": "…"}', { field: 'by' });
  const { by, note } = body as { by?: unknown; note?: unknown };
  if (typeof by !== 'string' || !BY.test(by))
    throw new HttpError(400, 'INVALID_ACTION', 'by: who acts, 1-128 characters without spaces', { field: 'by' });
  if (note !== undefined && (typeof note !== 'string' || note.length > 1000))
    throw new HttpError(400, 'INVALID_ACTION', 'note: at most 1000 characters', { field: 'note' });
  return { by, note };
}

export function addPreflightRoutes(router: Router, current: () => PreflightService | undefined): void {
  const on =
    (handler: (service: PreflightService, context: RouteContext) => Promise<void> | void) =>
    (context: RouteContext): Promise<void> | void => {
      const service = current();
      if (service === undefined) {
        throw new HttpError(503, 'STARTING', 'preflight starts with budgets, once the stores and Kafka answer', {
          headers: { 'retry-after': '5' },
        });
      }
      return handler(service, context);
    };
  const send = (context: RouteContext, record: PreflightRecord): void => sendJson(context.res, 200, record);
  router
    .post(
      '/v1/preflight',
      on(async (s, c) => send(c, await s.request(await readJsonBody(c.req, MAX_BODY)))),
    )
    .get(
      '/v1/preflight',
      on((s, c) => {
        const status = c.url.searchParams.get('status') ?? undefined;
        if (status !== undefined && !(PREFLIGHT_STATUSES as readonly string[]).includes(status))
          throw new HttpError(400, 'INVALID_QUERY', `status must be one of ${PREFLIGHT_STATUSES.join(', ')}`, {
            field: 'status',
          });
        const jobId = c.url.searchParams.get('job_id') ?? undefined;
        const limitText = c.url.searchParams.get('limit') ?? '100';
        const limit = Number(limitText);
        if (!/^\d{1,4}$/.test(limitText) || limit < 1 || limit > 1000)
          throw new HttpError(400, 'INVALID_QUERY', 'limit must be an integer from 1 to 1000', { field: 'limit' });
        const body: PreflightList = {
          preflights: s.list({ status: status as PreflightStatus | undefined, jobId, limit }),
        };
        sendJson(c.res, 200, body);
      }),
    )
    .get(
      '/v1/preflight/:id',
      on((s, c) => send(c, s.get(preflightId(c.params)))),
    )
    .post(
      '/v1/preflight/:id/approve',
      on(async (s, c) => {
        const id = preflightId(c.params);
        const a = await action(c);
        send(c, await s.approve(id, a.by, a.note));
      }),
    )
    .post(
      '/v1/preflight/:id/reject',
      on(async (s, c) => {
        const id = preflightId(c.params);
        const a = await action(c);
        send(c, await s.reject(id, a.by, a.note));
      }),
    )
    .post(
      '/v1/preflight/:id/release',
      on(async (s, c) => {
        const id = preflightId(c.params);
        const a = await action(c);
        send(c, await s.release(id, a.by, a.note));
      }),
    );
}
