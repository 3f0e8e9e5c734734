/**
 * Every `event.action` this service logs, with when it is written. Per-recipient outcomes
 * are never logged: they travel as `delivery.*` events.
 */
export const RELAY_LOG_EVENTS = {
  'relay.consumer_started': 'The relay subscribed to its pool queues (names in relais.queues).',
  'relay.destination_unresolved':
    'DNS could not answer for a recipient domain; the message is deferred.',
  'relay.smtp_pool_failed':
    'A destination pool reported an error outside any send (the sends still get their replies).',
  'relay.pools_closed': 'Shutdown closed every SMTP pool.',
} as const;

/** One of the codes above. */
export type RelayLogEvent = keyof typeof RELAY_LOG_EVENTS;
