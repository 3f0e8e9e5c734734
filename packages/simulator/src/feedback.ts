import { createTransport } from 'nodemailer';
import type { AsyncBounceReason, ProviderProfile } from './profile';
import { addressScore } from './random';

/** What happens to an accepted address later: nothing, a bounce, or a complaint. */
export type FeedbackFate =
  { kind: 'none' } | { kind: 'bounce'; reason: AsyncBounceReason } | { kind: 'complaint' };

/**
 * The fixed later fate of an address the provider accepts, drawn from a hash of (seed,
 * address) like `classifyRecipient`: a test or demo predicts exactly which addresses
 * bounce and which complain. An address that bounces does not also complain.
 */
export function classifyFeedback(
  profile: ProviderProfile,
  address: string,
  seed: number,
): FeedbackFate {
  if (addressScore(seed, 'async-bounce', address) < profile.asyncBounceRate) {
    const reasons = profile.asyncBounceReasons;
    const pick = Math.floor(addressScore(seed, 'async-bounce-reason', address) * reasons.length);
    return { kind: 'bounce', reason: reasons[Math.min(pick, reasons.length - 1)] ?? 'userunknown' };
  }
  if (addressScore(seed, 'complaint', address) < profile.complaintRate)
    return { kind: 'complaint' };
  return { kind: 'none' };
}

/** Sends one raw message with an explicit envelope ('' is the null sender). */
export interface MailSender {
  send(envelope: { from: string; to: string }, raw: Buffer): Promise<void>;
  close(): void;
}

/** An SMTP sender to one host:port (the bounce processor's inbound listener). */
export function createSmtpMailSender(target: {
  host: string;
  port: number;
  /** Name announced in EHLO. */
  name?: string;
}): MailSender {
  const transport = createTransport({
    host: target.host,
    port: target.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 2,
    name: target.name ?? 'simulator.relais.test',
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 10_000,
  });
  return {
    send: async (envelope, raw) => {
      await transport.sendMail({ envelope: { from: envelope.from, to: [envelope.to] }, raw });
    },
    close: () => transport.close(),
  };
}
