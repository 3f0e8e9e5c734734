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
  'relay.throttle_states_loaded':
    'Learned throttle states were read from the store at start (count in relais.sites).',
  'relay.throttle_load_failed':
    'The store could not give the learned throttle states; sites start from their profiles.',
  'relay.throttle_flush_failed':
    'Changed throttle states could not be written; they are kept and written by the next flush.',
  'relay.warmup_loaded':
    "Today's warm-up counts of the sources were read from the store at start (relais.sources).",
  'relay.warmup_load_failed':
    'The store could not give the warm-up counts; every source counts today from zero.',
  'relay.warmup_flush_failed':
    'Warm-up counts could not be added to the store; they are kept for the next flush.',
  'relay.pauses_load_failed':
    'The paused campaign slices could not be read (first failure of a run); the last known ones stay held.',
} as const;

/** One of the codes above. */
export type RelayLogEvent = keyof typeof RELAY_LOG_EVENTS;
