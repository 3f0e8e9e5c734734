import { compileSegment, parseSegmentRule } from '@relais/segments';
import type { SegmentCompiler } from '../ports';

/** The SegmentCompiler of `@relais/segments`: validates the stored rule, then compiles it. */
export const compileStoredSegment: SegmentCompiler = (rules, options) =>
  compileSegment(parseSegmentRule(rules), options);
