import { z } from 'zod';

/** Request and response schema pieces every relais API shares. */

export const id = z.uuid();
export const isoDate = z.iso.datetime({ offset: true });
export const limitQuery = z.coerce.number().int().min(1).max(1000).default(100);

/** A page of results with the cursor of the next one. */
export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next: z.string().nullable() });
}
