import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * Ids are branded strings: the compiler keeps a TenantId apart from a CampaignId although
 * both are UUIDs at run time. zod's `brand()` is type-only, so validating one costs no more
 * than validating a UUID (a `transform` would add a pipeline step per id per message).
 */
const uuid = () => z.uuid();

export const TenantIdSchema = uuid().brand<'TenantId'>();
export const EnvelopeIdSchema = uuid().brand<'EnvelopeId'>();
export const CampaignIdSchema = uuid().brand<'CampaignId'>();
export const ContactIdSchema = uuid().brand<'ContactId'>();
export const MessageIdSchema = uuid().brand<'MessageId'>();
export const SegmentIdSchema = uuid().brand<'SegmentId'>();
export const TemplateIdSchema = uuid().brand<'TemplateId'>();
export const IpPoolNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'pool names are lowercase letters, digits and dashes')
  .brand<'IpPoolName'>();

export type TenantId = z.output<typeof TenantIdSchema>;
export type EnvelopeId = z.output<typeof EnvelopeIdSchema>;
export type CampaignId = z.output<typeof CampaignIdSchema>;
export type ContactId = z.output<typeof ContactIdSchema>;
export type MessageId = z.output<typeof MessageIdSchema>;
export type SegmentId = z.output<typeof SegmentIdSchema>;
export type TemplateId = z.output<typeof TemplateIdSchema>;
export type IpPoolName = z.output<typeof IpPoolNameSchema>;

/** A new random (v4) id of the given brand. */
export function newId<T extends string>(): T {
  return randomUUID() as T;
}
