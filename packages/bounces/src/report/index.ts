export {
  parseReport,
  parseDeliveryStatus,
  parseFeedback,
  extractRecipients,
  type FeedbackReport,
  type ParsedReport,
  type ReportKind,
  type ReportRecipient,
} from './parse';
export { normalizeNewlines, parseMime, type MimePart, type Header } from './mime';
export { COMMAND_PATTERNS, commandIn, assignCommands, type SmtpCommand } from './commands';
