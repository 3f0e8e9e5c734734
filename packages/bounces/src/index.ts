export { classifySmtpReply, type BounceClassification, type SmtpReplyInput } from './classify';
export { classifyReport, type RecipientVerdict, type ReportVerdict } from './classify-report';
export { BOUNCE_REASONS, HARD_REASONS, type BounceReason } from './reasons';
export { STATUS_RULES, TEXT_RULES, type StatusRule, type TextRule } from './rules';
export {
  parseReport,
  parseDeliveryStatus,
  parseFeedback,
  extractRecipients,
  normalizeNewlines,
  parseMime,
  type FeedbackReport,
  type ParsedReport,
  type ReportKind,
  type ReportRecipient,
  type MimePart,
  type Header,
} from './report/index';
export {
  RECIPIENT_LINES,
  BOUNCE_SUBJECT,
  BOUNCE_SENDER,
  AUTOREPLY_HEADERS,
  AUTOREPLY_SUBJECT,
  ORIGINAL_MESSAGE_SEPARATORS,
} from './report/patterns';
export {
  predictReason,
  loadReasonModel,
  extractFeatures,
  modelInputOf,
  normalizeDiagnostic,
  rankReasons,
  type ModelInput,
  type RankedReason,
  type ReasonModel,
  type ReasonPrediction,
  type TrainingSummary,
} from './model/index';
