import { describe, expect, it } from 'vitest';
import { queueArguments } from './declare';

describe('queueArguments', () => {
  it('makes every queue a quorum queue', () => {
    expect(queueArguments({ name: 'q', bindings: [] })).toEqual({ 'x-queue-type': 'quorum' });
  });

  it('passes delivery limit and dead-letter target of a work queue through', () => {
    expect(
      queueArguments({ name: 'q', bindings: [], deliveryLimit: 10, deadLetterExchange: 'dead' }),
    ).toEqual({
      'x-queue-type': 'quorum',
      'x-delivery-limit': 10,
      'x-dead-letter-exchange': 'dead',
    });
  });

  it('dead-letters a delay queue at-least-once, which needs reject-publish overflow', () => {
    expect(
      queueArguments({
        name: 'retry',
        bindings: [],
        messageTtlMs: 200,
        deadLetterExchange: 'requeue',
        deadLetterRoutingKey: 'work',
      }),
    ).toEqual({
      'x-queue-type': 'quorum',
      'x-message-ttl': 200,
      'x-dead-letter-exchange': 'requeue',
      'x-dead-letter-routing-key': 'work',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
  });
});
