import { classifySmtpReply, type BounceClassification } from './classify';
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

/**
 * The verdicts of a parsed report: each bounced recipient through the same classifier as
 * the relay's synchronous replies (status, reply code, diagnostic text); a complaint is
 * `feedback` and an auto-reply `vacation`, neither hard; anything else has no recipient.
 */
export function classifyReport(report: ParsedReport): ReportVerdict {
  switch (report.kind) {
    case 'bounce':
      return {
        kind: 'bounce',
        recipients: report.recipients.map((recipient) => {
          const verdict = recipientVerdict(recipient, report.notice);
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

/**
 * A bounced recipient's verdict from its own diagnostic; when that says nothing, from the
 * notice's text as a whole (some systems print the reason apart from the address), and last
 * from what the recipient's domain is known to mean (a Google Groups address refuses
 * posters, not mail).
 */
function recipientVerdict(
  recipient: ReportRecipient,
  notice: string | undefined,
): BounceClassification {
  const reply = {
    code: recipient.replyCode,
    enhanced: recipient.status,
    command: recipient.command,
    source: 'dsn',
  } as const;
  const own = classifySmtpReply({ ...reply, text: recipient.diagnostic ?? '' });
  if (own.reason !== 'undefined') return own;
  if (notice !== undefined && notice !== recipient.diagnostic) {
    const fromNotice = classifySmtpReply({ ...reply, text: notice });
    if (fromNotice.reason !== 'undefined')
      return { ...fromNotice, confidence: fromNotice.confidence * 0.8 };
  }
  const domain = recipient.address.slice(recipient.address.lastIndexOf('@') + 1).toLowerCase();
  const rule = RECIPIENT_DOMAIN_RULES.find((r) => r.domain.test(domain));
  return rule === undefined
    ? own
    : { reason: rule.reason, hard: false, confidence: rule.confidence };
}
