import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { TenantId } from '@relais/domain';

/** The tenant a request acts for, resolved from its API key; every query is scoped by it. */
export interface TenantScope {
  tenantId: TenantId;
  apiKeyId: string;
}

/** What a route handler receives: validated inputs and the caller's tenant. */
export interface RouteInput<P, Q, B> {
  scope: TenantScope;
  params: P;
  query: Q;
  body: B;
  req: Request;
  res: Response;
}

type AnyObject = z.ZodType<Record<string, unknown>>;

/**
 * One HTTP operation, declared once: the router mounts it and the OpenAPI document is
 * generated from the same schemas, so the published contract cannot drift from the code.
 */
export interface Route<
  P extends AnyObject = AnyObject,
  Q extends AnyObject = AnyObject,
  B extends z.ZodType = z.ZodType,
> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path below `/v1`, e.g. `/contacts/:contactId`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** The body is a stream the handler reads itself (imports); documented by media type. */
  rawBody?: { mediaTypes: string[]; description: string };
  response?: z.ZodType;
  /**
   * Other representations of the response the handler writes itself when the request asks
   * for them (content negotiation, e.g. `text/csv`); documented beside the JSON one.
   */
  alsoProduces?: { mediaType: string; description: string }[];
  /** Success status; 200 unless set. 204 sends no body. */
  status?: number;
  /** Public routes skip API key authentication. */
  public?: boolean;
  handler: (input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>;
}

/** Keeps each route's inferred input types while collecting them in one array. */
export function defineRoute<P extends AnyObject, Q extends AnyObject, B extends z.ZodType>(
  route: Route<P, Q, B>,
): Route {
  return route;
}
