export type {
  AttributePath,
  AttributeRule,
  ContactStatus,
  DateValue,
  FieldName,
  FieldRule,
  OrderingOp,
  Scalar,
  SegmentRule,
} from './rule';
export { ATTRIBUTE_OPS, CONTACT_STATUSES, FIELD_OPS, LIMITS } from './rule';
export {
  parseSegmentRule,
  SegmentRuleError,
  SegmentRuleSchema,
  toJsonPointer,
  type SegmentRuleIssue,
} from './schema';
export { compileSegment, type CompiledSegment, type CompileOptions } from './compile';
