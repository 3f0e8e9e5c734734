import { z } from 'zod';

/** Shared pieces of the API's request and response schemas. */

export const id = z.uuid();
export const isoDate = z.iso.datetime({ offset: true });
export const limitQuery = z.coerce.number().int().min(1).max(1000).default(100);
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

/** A page of results with the cursor of the next one. */
export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next: z.string().nullable() });
}

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
