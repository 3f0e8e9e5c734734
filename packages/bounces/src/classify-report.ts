import {
  classifySmtpReply,
  isHard,
  type BounceClassification,
  type SmtpReplyInput,
} from './classify';
import { loadReasonModel, modelInputOf, predictReason } from './model/index';
import { BOUNCE_REASONS, type BounceReason } from './reasons';
import type { ParsedReport, ReportKind, ReportRecipient } from './report/index';
import { RECIPIENT_DOMAIN_RULES } from './rules';

/** One recipient's verdict, as `relais bounces classify` prints it. */
export interface RecipientVerdict {
  address: string;
  /** A Sisimai reason; `feedback` for a complaint, `vacation` for an auto-reply. */
  reason: string;
  hard: boolean;
  status: string | null;
  replyCode: number | null;
  confidence: number;
}

/** A parsed message with a verdict per recipient. */
export interface ReportVerdict {
  kind: ReportKind;
  recipients: RecipientVerdict[];
}

/** How `classifyReport` decides. */
export interface ClassifyReportOptions {
  /**
   * Let the statistical model overrule the rules where it is sure enough (default true).
   * The training script turns it off: the model learns from the rules' own verdicts.
   */
  model?: boolean;
}

const KNOWN_REASONS = new Set<string>(BOUNCE_REASONS);

/**
 * The verdicts of a parsed report: each bounced recipient through the same rules as the
 * relay's synchronous replies (status, reply code, command, diagnostic text), then the
 * reason model stacked on them, which overrules them only where it is at least as sure as
 * its training found worthwhile; a complaint is `feedback` and an auto-reply `vacation`,
 * neither hard; anything else has no recipient.
 */
export function classifyReport(
  report: ParsedReport,
  options: ClassifyReportOptions = {},
): ReportVerdict {
  switch (report.kind) {
    case 'bounce': {
      const fromNotice = noticeClassifier(report.notice);
      return {
        kind: 'bounce',
        recipients: report.recipients.map((recipient) => {
          const rules = recipientVerdict(recipient, fromNotice);
          const verdict = options.model === false ? rules : withModel(report, recipient, rules);
          return {
            address: recipient.address,
            reason: verdict.reason,
            hard: verdict.hard,
            status: recipient.status ?? verdict.status ?? null,
            replyCode: recipient.replyCode ?? null,
            confidence: verdict.confidence,
          };
        }),
      };
    }
    case 'feedback':
    case 'autoreply': {
      const reason = report.kind === 'feedback' ? 'feedback' : 'vacation';
      const addresses = report.recipients.map((recipient) => recipient.address);
      const fallback = report.feedback?.originalRcptTo ?? report.from ?? '';
      return {
        kind: report.kind,
        recipients: (addresses.length > 0 ? addresses : [fallback]).map((address) => ({
          address,
          reason,
          hard: false,
          status: null,
          replyCode: null,
          confidence: 1,
        })),
      };
    }
    case 'other':
      return { kind: 'other', recipients: [] };
  }
}

type ReplyContext = Pick<SmtpReplyInput, 'code' | 'enhanced' | 'command' | 'source'>;

/**
 * Classifies the notice's text for a recipient's code, status and command, once per distinct
 * combination: a notice listing hundreds of recipients is read a handful of times, not once each.
 */
function noticeClassifier(
  notice: string | undefined,
): (reply: ReplyContext) => BounceClassification | undefined {
  const seen = new Map<string, BounceClassification>();
  return (reply) => {
    if (notice === undefined) return undefined;
    const key = `${reply.code}|${reply.enhanced}|${reply.command}`;
    let verdict = seen.get(key);
    if (verdict === undefined) {
      verdict = classifySmtpReply({ ...reply, text: notice });
      seen.set(key, verdict);
    }
    return verdict;
  };
}

/**
 * A bounced recipient's verdict from its own diagnostic; when that says nothing, from the
 * notice's text as a whole (some systems print the reason apart from the address), and last
 * from what the recipient's domain is known to mean (a Google Groups address refuses
 * posters, not mail).
 */
function recipientVerdict(
  recipient: ReportRecipient,
  fromNotice: (reply: ReplyContext) => BounceClassification | undefined,
): BounceClassification {
  const reply: ReplyContext = {
    code: recipient.replyCode,
    enhanced: recipient.status,
    command: recipient.command,
    source: 'dsn',
  };
  const own = classifySmtpReply({ ...reply, text: recipient.diagnostic ?? '' });
  if (own.reason !== 'undefined') return own;
  const notice = fromNotice(reply);
  if (notice !== undefined && notice.reason !== 'undefined')
    return { ...notice, confidence: notice.confidence * 0.8 };
  const domain = recipient.address.slice(recipient.address.lastIndexOf('@') + 1).toLowerCase();
  const rule = RECIPIENT_DOMAIN_RULES.find((r) => r.domain.test(domain));
  return rule === undefined
    ? own
    : { reason: rule.reason, hard: false, confidence: rule.confidence };
}

/** The rules' verdict, or the model's where it disagrees with at least its trained certainty. */
function withModel(
  report: ParsedReport,
  recipient: ReportRecipient,
  rules: BounceClassification,
): BounceClassification {
  const prediction = predictReason(modelInputOf(report, recipient, rules.reason));
  if (
    prediction.reason === rules.reason ||
    prediction.probability < loadReasonModel().overrideProbability ||
    !KNOWN_REASONS.has(prediction.reason)
  ) {
    return rules;
  }
  const reason = prediction.reason as BounceReason;
  return {
    reason,
    hard: isHard(reason, recipient.replyCode, recipient.status ?? rules.status, 'dsn'),
    confidence: prediction.probability,
    ...(rules.status === undefined ? {} : { status: rules.status }),
  };
}
