import { randomUUID } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';
import { authenticate } from './api-keys';
import { errorHandler } from './errors';
import type { Route, TenantScope } from './route';
import { parseInput } from './validate';

/** JSON bodies are small documents; bulk data goes through the streaming import route. */
const JSON_LIMIT = '1mb';

/** `/contacts/:contactId` → `/contacts/{contactId}` for OpenAPI. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** How a router logs and ends. */
export interface RouterOptions {
  /** The `event.action` of the log line a 5xx writes, from the owning service's registry. */
  requestFailedAction: string;
  /**
   * Answer 404 for any path no route matched (default). A router that shares its mount
   * point with another one says false and must be mounted before it, or it is never reached.
   */
  notFound?: boolean;
}

/**
 * Mounts every route below `/v1`: request id, authentication (unless public), input
 * validation, the handler, and one error handler that turns any failure into a JSON body.
 */
export function buildRouter(
  routes: readonly Route[],
  deps: { store: Store; logger: Logger },
  options: RouterOptions,
): Router {
  const router = Router();
  const json = express.json({ limit: JSON_LIMIT });
  router.use((_req: Request, res: Response, next: NextFunction) => {
    // Several routers on one mount point: the first one a request passes names it.
    if (res.locals['requestId'] === undefined) {
      const requestId = randomUUID();
      res.locals['requestId'] = requestId;
      res.set('X-Request-Id', requestId);
    }
    next();
  });
  for (const route of routes) {
    const handlers = [
      async (req: Request, res: Response) => {
        const scope: TenantScope = route.public
          ? { tenantId: '' as TenantScope['tenantId'], apiKeyId: '' }
          : await authenticate(deps.store, bearer(req));
        const params = route.params ? parseInput(route.params, req.params, 'params') : {};
        const query = route.query ? parseInput(route.query, req.query, 'query') : {};
        const body = route.body ? parseInput(route.body, req.body ?? {}, 'body') : undefined;
        const result = await route.handler({ scope, params, query, body, req, res });
        if (res.headersSent) return;
        // A handler may choose the status itself (201 created vs 200 merged on an upsert).
        const status = res.statusCode !== 200 ? res.statusCode : (route.status ?? 200);
        if (status === 204 || result === undefined) res.status(status === 200 ? 204 : status).end();
        else res.status(status).json(result);
      },
    ];
    if (route.body && !route.rawBody) router[route.method](route.path, json, ...handlers);
    else router[route.method](route.path, ...handlers);
  }
  if (options.notFound ?? true) {
    router.use((_req: Request, res: Response) => {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'No such endpoint.' } });
    });
  }
  router.use(errorHandler(deps.logger, options.requestFailedAction));
  return router;
}

function bearer(req: Request): string | undefined {
  const header = req.get('authorization');
  if (!header) return undefined;
  const [scheme, token] = header.split(' ', 2);
  return scheme?.toLowerCase() === 'bearer' ? token?.trim() : undefined;
}
