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
