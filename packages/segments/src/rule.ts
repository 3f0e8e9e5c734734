/** A JSON scalar a rule compares against; `null` is not one (absence is tested with `exists`). */
export type Scalar = string | number | boolean;

/** A point in time: an ISO-8601 date or date-time, or a whole number of days before `now`. */
export type DateValue = { date: string } | { daysAgo: number };

/**
 * Where an attribute lives in `contacts.attributes`: `"plan"`, `"address.city"` (dots walk
 * into nested objects), or an array of keys for keys that themselves contain dots.
 */
export type AttributePath = string | readonly string[];

/** Operators that order numbers, strings (code-point order) and dates. */
export type OrderingOp = '<' | '<=' | '>' | '>=';

/** A comparison against one attribute of the free-form `attributes` object. */
export type AttributeRule =
  /** Exact JSON equality (`30` equals `30.0`, never `"30"`); `!=` is its exact negation. */
  | { attribute: AttributePath; op: '=' | '!='; value: Scalar }
  /** Ordering; a row whose attribute has another type never matches. */
  | { attribute: AttributePath; op: OrderingOp; value: number | string | DateValue }
  /** Equal to one of the values. */
  | { attribute: AttributePath; op: 'in'; value: readonly Scalar[] }
  /** Case-insensitive substring of a string attribute, or an element of an array attribute. */
  | { attribute: AttributePath; op: 'contains'; value: Scalar }
  /** Present and not JSON `null`. */
  | { attribute: AttributePath; op: 'exists' };

/** Built-in contact fields and the operators each one supports. */
export type FieldRule =
  | { field: 'email' | 'emailDomain'; op: '=' | '!=' | 'contains'; value: string }
  | { field: 'email' | 'emailDomain'; op: 'in'; value: readonly string[] }
  | { field: 'status'; op: '=' | '!='; value: ContactStatus }
  | { field: 'status'; op: 'in'; value: readonly ContactStatus[] }
  | { field: 'createdAt' | 'updatedAt'; op: OrderingOp; value: DateValue };

/** The values of `contacts.status`. */
export type ContactStatus = 'active' | 'unsubscribed';

/** A segment rule: a tree of combinators over leaf conditions. */
export type SegmentRule =
  /** Every child matches. */
  | { and: readonly SegmentRule[] }
  /** At least one child matches. */
  | { or: readonly SegmentRule[] }
  /** The child does not match (two-valued: a missing attribute is simply "no match"). */
  | { not: SegmentRule }
  /** Every contact. */
  | { all: true }
  /** The contact carries this tag (case-sensitive). */
  | { tag: string }
  /** The contact carries at least one (`any`) or every one (`all`) of these tags. */
  | { tags: { any: readonly string[] } | { all: readonly string[] } }
  | AttributeRule
  | FieldRule;

export const ATTRIBUTE_OPS = ['=', '!=', '<', '<=', '>', '>=', 'in', 'contains', 'exists'] as const;
export const ORDERING_OPS = ['<', '<=', '>', '>='] as const;
export const CONTACT_STATUSES = ['active', 'unsubscribed'] as const;

/** Which operators each built-in field accepts; the validator and the compiler share it. */
export const FIELD_OPS = {
  email: ['=', '!=', 'in', 'contains'],
  emailDomain: ['=', '!=', 'in', 'contains'],
  status: ['=', '!=', 'in'],
  createdAt: ORDERING_OPS,
  updatedAt: ORDERING_OPS,
} as const satisfies Record<FieldRule['field'], readonly string[]>;

/** The built-in field names. */
export type FieldName = keyof typeof FIELD_OPS;

/** Bounds that keep a rule cheap to validate, to plan, and under PostgreSQL's 65,535 binds. */
export const LIMITS = {
  /** Nesting levels, the root being level 1. */
  maxDepth: 20,
  /** Rule objects in the whole document. */
  maxNodes: 500,
  /** Entries in one `in` list or `tags` list. */
  maxListLength: 1000,
  /** Entries in all lists of the document together. */
  maxListValues: 10_000,
  /** Characters in one string value, attribute key or tag. */
  maxStringLength: 1000,
  /** Segments in one attribute path. */
  maxPathSegments: 10,
  /** Largest `daysAgo` (about 100 years). */
  maxDaysAgo: 36_500,
} as const;
