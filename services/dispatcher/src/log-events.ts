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
} as const;

/** One of the codes above. */
export type DispatcherLogEvent = keyof typeof DISPATCHER_LOG_EVENTS;
