import { isRetryable } from '@relais/domain';
import type { Publish } from '../ports';

/**
 * Publishes with a few quick retries before giving up. Once the mail is sent, failing the
 * handler means sending it again on the redelivery, so a broker hiccup (a nack, a
 * reconnect) is worth a short wait here first. What still fails is thrown: the message is
 * not acked and goes out again (at-least-once), its outcome is never lost.
 */
export function withPublishRetries(publish: Publish, delaysMs: readonly number[]): Publish {
  return async (envelope) => {
    for (let retry = 0; ; retry += 1) {
      try {
        await publish(envelope);
        return;
      } catch (error) {
        const delayMs = delaysMs[retry];
        if (delayMs === undefined || !isRetryable(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  };
}
