/**
 * Why a message bounced, in Sisimai's taxonomy (the one the labelled corpus and issue 6's
 * DSN classifier use), so SMTP-time and DSN-time bounces land in the same vocabulary.
 */
export const BOUNCE_REASONS = [
  /** The mailbox does not exist at the destination. */
  'userunknown',
  /** The recipient domain does not exist or accepts no mail (null MX, RFC 7505). */
  'hostunknown',
  /** The recipient moved and left no forwarding. */
  'hasmoved',
  /** The destination accepts no mail at all. */
  'notaccept',
  /** Over quota; emptied mailboxes come back, so the address is still good. */
  'mailboxfull',
  /** The mailbox is disabled or suspended, perhaps for a while. */
  'suspend',
  /** Refused by the recipient's own filter. */
  'filtered',
  /** Our envelope sender was refused. */
  'rejected',
  /** Our sending IP was refused (block lists, reputation). */
  'blocked',
  /** Refused for an SPF, DKIM or DMARC failure. */
  'authfailure',
  /** Refused because our IP has no matching reverse DNS. */
  'requireptr',
  /** The destination's policy refused the message for another reason. */
  'policyviolation',
  /** The content was taken for spam. */
  'spamdetected',
  /** The content carried a virus. */
  'virusdetected',
  /** The message exceeds the destination's size limit. */
  'mesgtoobig',
  /** The content was refused (headers, MIME structure). */
  'contenterror',
  /** Our SMTP dialogue had a syntax error. */
  'syntaxerror',
  /** The destination refused to relay for us. */
  'norelaying',
  /** Too many connections from us at once. */
  'toomanyconn',
  /** Too many messages from us in a time window. */
  'speeding',
  /** A per-message or per-period limit other than speed. */
  'exceedlimit',
  /** The destination host failed (temporary errors, crashes). */
  'systemerror',
  /** The destination host is out of disk or resources. */
  'systemfull',
  /** A routing or network failure between us and the destination. */
  'networkerror',
  /** A security check other than sender authentication failed. */
  'securityerror',
  /** The retry period ran out before delivery. */
  'expired',
  /** Our sending IP or domain has a poor reputation at the destination. */
  'badreputation',
  /** The destination's local delivery agent failed (procmail, a pipe, a lock). */
  'mailererror',
  /** The destination holds the message for later (a queue or a gateway decision). */
  'onhold',
  /** The message breaks RFC 5322 rules the destination enforces (several From:, bad headers). */
  'notcompliantrfc',
  /** STARTTLS was required and failed. */
  'failedstarttls',
  /** The escape hatch: nothing in the reply says why. */
  'undefined',
] as const;

/** One reason of the taxonomy above. */
export type BounceReason = (typeof BOUNCE_REASONS)[number];

/**
 * The reasons that condemn the address itself. Only these, and only with a 5xx code, make a
 * bounce hard: everything else says something about us, the message or the moment.
 */
export const HARD_REASONS: ReadonlySet<BounceReason> = new Set<BounceReason>([
  'userunknown',
  'hostunknown',
  'hasmoved',
  'notaccept',
]);
