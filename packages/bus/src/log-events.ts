/**
 * Every log event the bus writes, keyed by its `event.action`. Alerts match on these codes,
 * so entries are only ever added; `log-events.test.ts` fails when the code uses one that is
 * not listed here.
 */
export const BUS_LOG_EVENTS = {
  'bus.connection.failed': 'The RabbitMQ connection reported an error; a reconnect follows.',
  'bus.connection.lost': 'The RabbitMQ connection closed; publishes wait, consumers pause.',
  'bus.connection.restored': 'Reconnected; topology redeclared, publisher and consumers restored.',
  'bus.connection.retry_failed': 'A reconnection attempt failed; the next one backs off further.',
  'bus.connection.blocked': 'The broker blocked publishing (memory or disk alarm).',
  'bus.connection.unblocked': 'The broker accepts publishes again.',
  'bus.publisher.channel_failed':
    'The confirm channel closed; its unconfirmed publishes were rejected.',
  'bus.publisher.reopen_failed':
    'Reopening the confirm channel failed; retried on the next publish.',
  'bus.publish.timed_out': 'Publishes waited for a connection longer than the publish timeout.',
  'bus.consumer.channel_failed':
    'A consumer channel closed; its unacked messages return to the queue.',
  'bus.consumer.cancelled_by_broker':
    'The broker cancelled a consumer (queue deleted); it resubscribes.',
  'bus.consumer.restarted': 'A consumer subscribed again after its channel failed.',
  'bus.consumer.restart_failed': 'Resubscribing a consumer failed; retried with backoff.',
  'bus.consumer.handler_threw':
    'A delivery handler threw past the runtime; the message was requeued.',
  'bus.consumer.failed':
    'The consumer runtime itself failed on a delivery; the message was requeued.',
  'bus.message.retry_scheduled': 'A handler failed retryably; a copy waits in a delay tier.',
  'bus.message.dead_lettered': 'A message was dead-lettered with its reason in the headers.',
  'bus.republish.failed': 'A retry or dead-letter copy was refused; the original was requeued.',
  'bus.dedupe.record_failed': 'The processed id could not be recorded; a redelivery may run twice.',
} as const;

/** One of the bus's stable log event codes. */
export type BusLogEvent = keyof typeof BUS_LOG_EVENTS;
