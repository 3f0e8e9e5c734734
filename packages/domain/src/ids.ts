import { randomUUID } from 'node:crypto';
import { z } from 'zod';

declare const brand: unique symbol;
/** A string that the compiler keeps apart from other ids of the same runtime type. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type TenantId = Brand<string, 'TenantId'>;
export type EnvelopeId = Brand<string, 'EnvelopeId'>;
export type CampaignId = Brand<string, 'CampaignId'>;
export type ContactId = Brand<string, 'ContactId'>;
export type MessageId = Brand<string, 'MessageId'>;
export type SegmentId = Brand<string, 'SegmentId'>;
export type TemplateId = Brand<string, 'TemplateId'>;
export type IpPoolName = Brand<string, 'IpPoolName'>;

const uuid = z.uuid();
export const TenantIdSchema = uuid.transform((v) => v as TenantId);
export const EnvelopeIdSchema = uuid.transform((v) => v as EnvelopeId);
export const CampaignIdSchema = uuid.transform((v) => v as CampaignId);
export const ContactIdSchema = uuid.transform((v) => v as ContactId);
export const MessageIdSchema = uuid.transform((v) => v as MessageId);
export const SegmentIdSchema = uuid.transform((v) => v as SegmentId);
export const TemplateIdSchema = uuid.transform((v) => v as TemplateId);
export const IpPoolNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'pool names are lowercase letters, digits and dashes')
  .transform((v) => v as IpPoolName);

export function newId<T extends Brand<string, string>>(): T {
  return randomUUID() as T;
}
