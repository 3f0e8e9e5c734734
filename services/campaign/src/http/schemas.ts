import { z } from 'zod';
import { id, isoDate } from '@relais/http-api';

/** Pieces of the campaign API's request and response schemas; the generic ones are shared. */

export { id, isoDate, limitQuery, page } from '@relais/http-api';
export const tagName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}_.:-]+$/u, 'tags are letters, digits and _ . : -');
export const attributes = z
  .record(z.string().min(1).max(128), z.unknown())
  .refine((value) => Object.keys(value).length <= 200, 'at most 200 attributes')
  .refine((value) => JSON.stringify(value).length <= 32_768, 'attributes larger than 32 KiB');
export const purpose = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'purposes are lowercase identifiers, e.g. "marketing"');

export const contactView = z.object({
  id,
  email: z.string(),
  domain: z.string(),
  attributes: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()),
  status: z.enum(['active', 'unsubscribed']),
  consents: z.record(z.string(), z.unknown()),
  createdAt: isoDate,
  updatedAt: isoDate,
});
