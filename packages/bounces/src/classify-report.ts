import { classifySmtpReply } from './classify';
import type { ParsedReport, ReportKind } from './report/index';

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
          const verdict = classifySmtpReply({
            code: recipient.replyCode,
            enhanced: recipient.status,
            text: recipient.diagnostic ?? '',
            command: recipient.command,
            source: 'dsn',
          });
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
