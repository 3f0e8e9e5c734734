export { classifySmtpReply, type BounceClassification, type SmtpReplyInput } from './classify';
export { BOUNCE_REASONS, HARD_REASONS, type BounceReason } from './reasons';
export { STATUS_RULES, TEXT_RULES, type StatusRule, type TextRule } from './rules';
