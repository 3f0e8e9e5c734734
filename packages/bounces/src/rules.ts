import type { BounceReason } from './reasons';

/**
 * One row of the enhanced-status table. RFC 3463 §3: the subject and detail mean the same
 * whatever the class, so rows are keyed without it (`1.1` serves 5.1.1 and 4.1.1); the
 * class and the basic code decide only whether the failure is permanent.
 */
export interface StatusRule {
  /** `subject.detail` exactly (`1.1`), or a subject prefix ending in a dot (`7.`). */
  status: string;
  reason: BounceReason;
  confidence: number;
  /**
   * The code is used by servers for several causes (5.7.1 covers block lists, spam and
   * relay refusals alike): a matching text rule is more telling and wins.
   */
  generic?: true;
}

/** One row of the reply-text table: the first pattern that matches decides. */
export interface TextRule {
  pattern: RegExp;
  reason: BounceReason;
  confidence: number;
}

/** Enhanced status codes, most specific first (RFC 3463, RFC 7505, RFC 7372). */
export const STATUS_RULES: readonly StatusRule[] = [
  { status: '1.1', reason: 'userunknown', confidence: 0.95 },
  { status: '1.2', reason: 'hostunknown', confidence: 0.9 },
  { status: '1.3', reason: 'userunknown', confidence: 0.8 },
  { status: '1.4', reason: 'userunknown', confidence: 0.7 },
  { status: '1.6', reason: 'hasmoved', confidence: 0.9 },
  { status: '1.7', reason: 'rejected', confidence: 0.8 },
  { status: '1.8', reason: 'rejected', confidence: 0.8 },
  // RFC 7505 §4.1: a null MX means the domain accepts no mail, ever.
  { status: '1.10', reason: 'hostunknown', confidence: 0.95 },
  { status: '1.', reason: 'userunknown', confidence: 0.5, generic: true },
  // RFC 3463 files 5.2.1 as persistent, but providers also use it for accounts they
  // suspend for a while: the address may come back, so it is not hard.
  { status: '2.1', reason: 'suspend', confidence: 0.7 },
  // 5.2.2 is "persistent" too, yet quotas are emptied: the address is still good.
  { status: '2.2', reason: 'mailboxfull', confidence: 0.9 },
  { status: '2.3', reason: 'mesgtoobig', confidence: 0.8 },
  { status: '2.', reason: 'systemerror', confidence: 0.4, generic: true },
  { status: '3.1', reason: 'systemfull', confidence: 0.8 },
  { status: '3.2', reason: 'notaccept', confidence: 0.6 },
  { status: '3.4', reason: 'mesgtoobig', confidence: 0.9 },
  { status: '3.', reason: 'systemerror', confidence: 0.5, generic: true },
  { status: '4.4', reason: 'hostunknown', confidence: 0.6 },
  { status: '4.7', reason: 'expired', confidence: 0.9 },
  { status: '4.', reason: 'networkerror', confidence: 0.5, generic: true },
  { status: '5.3', reason: 'exceedlimit', confidence: 0.7 },
  { status: '5.', reason: 'syntaxerror', confidence: 0.4, generic: true },
  { status: '6.', reason: 'contenterror', confidence: 0.6, generic: true },
  { status: '7.1', reason: 'policyviolation', confidence: 0.5, generic: true },
  { status: '7.13', reason: 'suspend', confidence: 0.8 },
  { status: '7.23', reason: 'authfailure', confidence: 0.9 },
  { status: '7.25', reason: 'requireptr', confidence: 0.9 },
  { status: '7.26', reason: 'authfailure', confidence: 0.9 },
  // RFC 7505 §4.2: our sender domain has a null MX.
  { status: '7.27', reason: 'rejected', confidence: 0.9 },
  { status: '7.', reason: 'securityerror', confidence: 0.4, generic: true },
];

/**
 * Reply-text patterns, tried in order on the lower-cased, whitespace-collapsed reply.
 * Order matters: block-list replies mention "spam" (Spamhaus), and "too many connections"
 * must not read as a sending-rate limit.
 */
export const TEXT_RULES: readonly TextRule[] = [
  {
    pattern:
      /blocked using|block ?list|black ?list|\b(?:rbl|dnsbl)\b|spamhaus|spamcop|barracuda|client host \S*\s?(?:blocked|rejected)|ip (?:address )?(?:is |has been )?(?:blocked|banned|listed)|listed (?:in|on|at) /,
    reason: 'blocked',
    confidence: 0.85,
  },
  {
    pattern:
      /user unknown|unknown user|no such (?:user|mailbox|recipient|account|address)|(?:does not|doesn't|did not) exist|doesn'?t have an? [\w.-]+ account|unknown (?:recipient|mailbox|local[- ]part)|invalid (?:recipient|mailbox)|mailbox (?:unavailable|not found)|not a valid (?:mailbox|recipient)|no longer (?:on|at|with) /,
    reason: 'userunknown',
    confidence: 0.8,
  },
  {
    pattern:
      /host unknown|unknown host|domain (?:not found|does not exist)|host or domain name not found|unrouteable (?:mail )?(?:domain|address)|null mx|\bnxdomain\b/,
    reason: 'hostunknown',
    confidence: 0.8,
  },
  { pattern: /\bhas moved\b|address (?:has )?changed/, reason: 'hasmoved', confidence: 0.7 },
  {
    pattern: /(?:does not|doesn't) accept (?:any )?(?:e-?)?mail|accepts no mail/,
    reason: 'notaccept',
    confidence: 0.8,
  },
  {
    pattern:
      /(?:account|mailbox) (?:is |has been )?(?:disabled|suspended|inactive|deactivated|locked)/,
    reason: 'suspend',
    confidence: 0.8,
  },
  {
    pattern: /insufficient system storage|system (?:is )?full|disk full/,
    reason: 'systemfull',
    confidence: 0.7,
  },
  {
    pattern:
      /mailbox (?:is )?full|over ?quota|quota (?:exceeded|full)|exceeded (?:\w+ )?(?:quota|storage)|mailbox size limit/,
    reason: 'mailboxfull',
    confidence: 0.85,
  },
  {
    pattern: /too (?:big|large)|exceeds (?:the )?(?:maximum )?(?:message )?size|size limit/,
    reason: 'mesgtoobig',
    confidence: 0.8,
  },
  {
    pattern: /too many (?:connections|concurrent|simultaneous|sessions)|connection (?:limit|rate)/,
    reason: 'toomanyconn',
    confidence: 0.8,
  },
  {
    pattern: /rate limit|\brate\b|too many (?:messages|mails|emails|recipients)|throttl|slow down/,
    reason: 'speeding',
    confidence: 0.7,
  },
  {
    pattern: /reverse (?:dns|lookup)|\bptr\b|\brdns\b/,
    reason: 'requireptr',
    confidence: 0.7,
  },
  {
    pattern: /\b(?:spf|dkim|dmarc)\b|unauthenticated|authentication (?:check )?fail/,
    reason: 'authfailure',
    confidence: 0.7,
  },
  {
    pattern: /relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited)|unable to relay/,
    reason: 'norelaying',
    confidence: 0.8,
  },
  { pattern: /virus|malware|infected/, reason: 'virusdetected', confidence: 0.8 },
  { pattern: /spam|junk|unsolicited|bulk mail/, reason: 'spamdetected', confidence: 0.75 },
  {
    pattern: /sender (?:address )?(?:rejected|refused|denied|blocked)|sender domain/,
    reason: 'rejected',
    confidence: 0.7,
  },
  { pattern: /filtered|content (?:rejected|refused)/, reason: 'filtered', confidence: 0.6 },
  { pattern: /polic(?:y|ies)|not allowed|prohibit/, reason: 'policyviolation', confidence: 0.5 },
  {
    pattern:
      /try again later|temporar(?:il)?y|closing (?:transmission|connection)|service (?:is )?(?:not )?(?:available|unavailable)|system error|internal (?:server )?error|local error/,
    reason: 'systemerror',
    confidence: 0.5,
  },
  {
    pattern: /(?:delivery|retry) (?:time|period) (?:expired|exceeded)|message expired/,
    reason: 'expired',
    confidence: 0.8,
  },
];
