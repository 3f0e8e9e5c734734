/**
 * Why the simulator refused something. A closed vocabulary: every refusal a profile can
 * produce is one of these, mapped to its SMTP reply by the exhaustive table below.
 */
export type RefusalReason =
  /** More open connections from one client IP than `maxConnectionsPerClient`; at connect. */
  | 'too_many_connections'
  /** The client IP's token bucket is empty; at the first RCPT of a message. */
  | 'rate_limited'
  /** The recipient does not exist (list, pattern or `unknownUserRate`); at RCPT. */
  | 'unknown_user'
  /** The recipient's mailbox is over quota (transient: it may be emptied); at RCPT. */
  | 'mailbox_full'
  /** First attempt of a (client, sender, recipient) triple, or a retry too early; at RCPT. */
  | 'greylisted'
  /** Recipient domain is not served by this provider: a routing mistake; at RCPT. */
  | 'relay_denied'
  /** More recipients in one message than `maxRecipientsPerMessage`; at RCPT. */
  | 'too_many_recipients'
  /** A random transient failure drawn at `tempFailureRate`; after DATA. */
  | 'temporary_failure'
  /** The message is larger than `maxMessageSizeBytes`; after DATA. */
  | 'message_too_large'
  /** `requireDkimPass` is set and no DKIM signature verified; after DATA. */
  | 'dkim_required';

/** An SMTP reply: basic code, enhanced status code (RFC 3463) and text. */
export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

// Texts echo what the big providers answer, so classifiers in the relay meet familiar lines.
// 421 closes the connection (RFC 5321 §3.8); smtp-server does so for every 421 it sends.
export const REPLIES: Record<RefusalReason, SmtpReply> = {
  too_many_connections: {
    code: 421,
    enhanced: '4.7.0',
    text: 'too many connections, try again later',
  },
  rate_limited: { code: 421, enhanced: '4.7.0', text: 'rate limited, try again later' },
  unknown_user: { code: 550, enhanced: '5.1.1', text: 'the email account does not exist' },
  mailbox_full: { code: 452, enhanced: '4.2.2', text: 'mailbox full, over quota' },
  greylisted: { code: 451, enhanced: '4.7.1', text: 'greylisted, try again later' },
  relay_denied: { code: 554, enhanced: '5.7.1', text: 'relay access denied' },
  too_many_recipients: { code: 452, enhanced: '4.5.3', text: 'too many recipients' },
  temporary_failure: {
    code: 451,
    enhanced: '4.3.0',
    text: 'temporary local problem, try again later',
  },
  message_too_large: { code: 552, enhanced: '5.3.4', text: 'message size exceeds fixed limit' },
  dkim_required: {
    code: 550,
    enhanced: '5.7.26',
    text: 'unauthenticated email is not accepted: no valid DKIM signature',
  },
};

/** The reply line without the basic code, e.g. `4.7.0 rate limited, try again later`. */
export function replyText(reason: RefusalReason): string {
  const reply = REPLIES[reason];
  return `${reply.enhanced} ${reply.text}`;
}

/** `550 5.1.1`: the key of the per-code counters in stats. */
export function replyKey(reason: RefusalReason): string {
  const reply = REPLIES[reason];
  return `${reply.code} ${reply.enhanced}`;
}

/** An Error smtp-server turns into the reply (it reads `responseCode`). */
export function refusal(reason: RefusalReason): Error & { responseCode: number } {
  return Object.assign(new Error(replyText(reason)), { responseCode: REPLIES[reason].code });
}
