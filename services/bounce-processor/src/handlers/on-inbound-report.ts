import { classifyReport, parseReport, type ReportKind } from '@relais/bounces';
import type { MessageId } from '@relais/domain';
import type { Logger } from '@relais/telemetry';
import { decideReport, reportMessageRefs, type MessageRef } from '../domain/report-verdict';
import type { BounceLogEvent } from '../log-events';
import type { BouncedMessage, InboundReport, ReportActions } from '../ports';

/** What the report handler needs: writes bound to the worker's transaction, and VERP. */
export interface InboundReportPorts {
  actions: ReportActions;
  /** The message id of a VERP address sealed with the bounce secret, if it is one. */
  openVerp: (address: string) => MessageId | undefined;
  logger: Logger;
}

/** What processing a report gave: kept in `inbound_reports.kind` and `verdict`. */
export interface ReportResult {
  kind: ReportKind;
  verdict: Record<string, unknown>;
}

async function findMessage(
  report: InboundReport,
  refs: readonly MessageRef[],
  actions: ReportActions,
): Promise<{ message: BouncedMessage; via: MessageRef['via'] } | undefined> {
  for (const ref of refs) {
    const message = await actions.findMessage(ref.messageId);
    // A report to one tenant's VERP address never acts on another tenant's message.
    if (message === undefined) continue;
    if (report.tenantId !== null && message.tenantId !== report.tenantId) continue;
    return { message, via: ref.via };
  }
  return undefined;
}

/**
 * Parses and classifies one inbound report, then acts on it through `ports.actions`: a
 * bounce of our message is recorded (a hard one, or a soft one that repeats, suppresses the
 * address); a complaint unsubscribes the contact, suppresses the address and announces
 * `complaint.received`; an auto-reply, a delay notice or anything else is only described.
 * Store errors propagate: the worker rolls this report back and records the error.
 */
export async function onInboundReport(
  report: InboundReport,
  ports: InboundReportPorts,
): Promise<ReportResult> {
  const parsed = parseReport(report.raw);
  const classified = classifyReport(parsed);
  const refs =
    parsed.kind === 'bounce' || parsed.kind === 'feedback'
      ? reportMessageRefs(report.messageId, parsed, ports.openVerp)
      : [];
  const found = await findMessage(report, refs, ports.actions);
  const decision = decideReport(report.id, parsed, classified, found?.message);
  const about = found === undefined ? {} : { messageId: found.message.id, via: found.via };
  // The code is passed as `{ action }` so the log-code registry test finds it at each call.
  const log = ({ action }: { action: BounceLogEvent }, fields: Record<string, unknown>) =>
    ports.logger.debug(
      {
        'event.action': action,
        relais: { report_id: report.id, kind: parsed.kind, ...about, ...fields },
      },
      'inbound report processed',
    );

  switch (decision.kind) {
    case 'bounce': {
      const { record } = decision;
      const outcome = await ports.actions.recordBounce(record, decision.suppression, null);
      const action =
        outcome.kind === 'duplicate' ? 'duplicate' : outcome.suppressed ? 'suppressed' : 'recorded';
      const suppressed = outcome.kind === 'recorded' ? outcome.suppressed : false;
      log(
        { action: 'report.bounce_recorded' },
        { outcome: action, reason: record.reason, hard: record.hard },
      );
      return {
        kind: parsed.kind,
        verdict: {
          outcome: action,
          ...about,
          reason: record.reason,
          hard: record.hard,
          confidence: record.confidence,
          status: record.status,
          replyCode: record.replyCode,
          suppressed,
        },
      };
    }
    case 'complaint': {
      const outcome = await ports.actions.recordComplaint({
        message: decision.message,
        feedbackType: decision.feedbackType,
        userAgent: decision.userAgent,
        at: report.receivedAt,
      });
      log(
        { action: 'report.complaint_recorded' },
        { ...outcome, feedback_type: decision.feedbackType },
      );
      return {
        kind: parsed.kind,
        verdict: {
          outcome: 'complaint',
          ...about,
          feedbackType: decision.feedbackType,
          ...(decision.userAgent === undefined ? {} : { userAgent: decision.userAgent }),
          ...outcome,
        },
      };
    }
    case 'delay_notice':
    case 'autoreply':
      log({ action: 'report.ignored' }, { outcome: decision.kind });
      return { kind: parsed.kind, verdict: { outcome: decision.kind, ...about } };
    case 'unmatched':
      log({ action: 'report.unmatched' }, { reason: decision.reason });
      return { kind: parsed.kind, verdict: { outcome: 'unmatched', reason: decision.reason } };
    case 'other':
      log({ action: 'report.ignored' }, { outcome: 'other', reason: decision.reason });
      return { kind: 'other', verdict: { outcome: 'other', reason: decision.reason } };
    default:
      return decision satisfies never;
  }
}
