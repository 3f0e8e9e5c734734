/**
 * Every `event.action` this service logs, with when it is written. Per-recipient facts are
 * never logged (no address, no body): sent messages travel as `outbound.send`, failed ones
 * are counted by reason.
 */
export const DISPATCHER_LOG_EVENTS = {
  'dispatcher.started': 'The consumer is subscribed; routing pools and DKIM selectors in fields.',
  'dispatcher.dkim_keys_generated':
    'A DKIM key was generated in memory because none was configured (embedded mode, tests).',
  'dispatcher.batch_dispatched':
    'A batch was rendered, signed and handed to the bus (counts in relais.published, relais.failed, relais.skipped).',
  'dispatcher.recipients_failed':
    'Some recipients of a batch could not be rendered or built; counts by reason, marked failed.',
  'dispatcher.batch_skipped':
    'A batch names a campaign the tenant does not have, or none of its recipients is still queued.',
  'dispatcher.batch_cancelled': "The batch's campaign was cancelled; its queued messages were too.",
  'submission.listening':
    'A submission transport (smtp, http, grpc) is listening; host and port in fields.',
  'submission.tls_generated':
    'No STARTTLS certificate was configured: a self-signed one was generated (embedded mode).',
  'submission.accepted':
    'A submitted message was recorded and every recipient published with a confirm (counts, submission id).',
  'submission.refused':
    'A submission was refused for its own sake (auth, limits, bare line endings, rate); reason in fields.',
  'submission.failed':
    'A submission could not be recorded or published (store or bus); the client was told to retry.',
  'submission.connection_failed': 'An SMTP submission connection failed (socket or TLS error).',
  'submission.request_failed': 'An HTTP submission request failed with a 5xx.',
} as const;

/** One of the codes above. */
export type DispatcherLogEvent = keyof typeof DISPATCHER_LOG_EVENTS;
