/**
 * Every `event.action` this service logs, with when it is written. Bounces and suppressions
 * themselves are rows and `suppression.added` events, not log lines; addresses are never
 * logged.
 */
export const BOUNCE_LOG_EVENTS = {
  'bounce.consumer_started': 'The processor consumes its queue (name in relais.queue).',
  'bounce.message_unknown':
    'A bounce names a message this tenant has no row for (relais.reason says why); acked, nothing written.',
  'bounce.recorded':
    'A bounce row was written (relais.reason, relais.hard); relais.suppressed when it suppressed the address.',
  'bounce.duplicate_ignored':
    'The bounce of this event id was recorded before (a redelivery); nothing written.',
  'report.worker_started':
    'The inbound report worker polls (relais.batch_size, relais.poll_interval_ms).',
  'report.bounce_recorded':
    'A DSN about our message was recorded (relais.outcome recorded, suppressed or duplicate; relais.reason, relais.hard, relais.via).',
  'report.complaint_recorded':
    'A complaint unsubscribed the contact and suppressed the address (relais.unsubscribed, relais.suppressed are false when it already was); complaint.received enqueued.',
  'report.ignored':
    'A report needs no action (relais.outcome: autoreply, delay_notice, other with relais.reason).',
  'report.unmatched':
    'A bounce or complaint names no message of ours (relais.reason); recorded, nothing else written.',
  'report.failed':
    'Acting on one report failed; it was rolled back alone and marked processed with the error (not retried).',
  'report.batch_failed':
    'A whole batch rolled back (relais.reports); its reports are retried up to reports.maxAttempts times.',
  'inbound.listening': 'The inbound SMTP listener is bound (relais.host, relais.port).',
  'inbound.accepted':
    'An inbound message was stored and answered 250 (relais.recipients, relais.bytes).',
  'inbound.refused':
    'The inbound listener refused a recipient or a message (relais.reason: relay, verp_unknown, verp_malformed, verp_forged, own_mail, size, bare_line_ending, loop, data_timeout).',
  'inbound.store_failed': 'Storing an inbound message failed; the client got 451 4.3.0.',
  'inbound.connection_failed': 'An inbound SMTP connection failed (a socket error).',
} as const;

/** One of the codes above. */
export type BounceLogEvent = keyof typeof BOUNCE_LOG_EVENTS;
