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
  /** Specific enough that only an `overridesStatus` text rule can contradict it. */
  strong?: true;
}

/** One row of the reply-text table: the first pattern that matches decides. */
export interface TextRule {
  pattern: RegExp;
  reason: BounceReason;
  confidence: number;
  /**
   * The words are unmistakable (a quota, a sending rate, a locked account), so they beat even
   * a specific status code: servers reuse 5.1.1 and 5.2.1 for all of these.
   */
  overridesStatus?: true;
  /**
   * A generic "no such user" wording. Said at RCPT TO it is the mailbox; said after DATA (or
   * in a notice that does not say when) it is the recipient's filter refusing the message.
   */
  weak?: true;
}

/** Enhanced status codes, most specific first (RFC 3463, RFC 7505, RFC 7372). */
export const STATUS_RULES: readonly StatusRule[] = [
  { status: '1.1', reason: 'userunknown', confidence: 0.95, strong: true },
  { status: '1.2', reason: 'hostunknown', confidence: 0.9, strong: true },
  { status: '1.3', reason: 'userunknown', confidence: 0.8 },
  { status: '1.4', reason: 'userunknown', confidence: 0.7 },
  { status: '1.6', reason: 'hasmoved', confidence: 0.9, strong: true },
  { status: '1.7', reason: 'rejected', confidence: 0.8 },
  { status: '1.8', reason: 'rejected', confidence: 0.8 },
  // RFC 7505 §4.1: a null MX means the domain accepts no mail, ever. Microsoft also sends
  // 5.1.10 for recipients its directory lacks; its text says so and wins.
  { status: '1.10', reason: 'notaccept', confidence: 0.9 },
  { status: '1.', reason: 'userunknown', confidence: 0.5, generic: true },
  // RFC 3463 files 5.2.1 as persistent, but providers also use it for accounts they
  // suspend for a while: the address may come back, so it is not hard.
  { status: '2.1', reason: 'suspend', confidence: 0.7 },
  // 5.2.2 is "persistent" too, yet quotas are emptied: the address is still good.
  { status: '2.2', reason: 'mailboxfull', confidence: 0.9, strong: true },
  // "Message length exceeds administrative limit": the recipient's limit, not ours.
  { status: '2.3', reason: 'exceedlimit', confidence: 0.8 },
  { status: '2.', reason: 'systemerror', confidence: 0.4, generic: true },
  { status: '3.1', reason: 'systemfull', confidence: 0.8 },
  { status: '3.2', reason: 'notaccept', confidence: 0.6 },
  { status: '3.4', reason: 'mesgtoobig', confidence: 0.9 },
  { status: '3.', reason: 'systemerror', confidence: 0.5, generic: true },
  // 4.4.1 "no answer from host" ends the same way as the retry period running out.
  { status: '4.1', reason: 'expired', confidence: 0.6 },
  { status: '4.4', reason: 'hostunknown', confidence: 0.6 },
  { status: '4.7', reason: 'expired', confidence: 0.9 },
  { status: '4.', reason: 'networkerror', confidence: 0.5, generic: true },
  // RFC 3463 X.5.3: "too many recipients", which servers enforce per connection.
  { status: '5.3', reason: 'toomanyconn', confidence: 0.7 },
  { status: '5.', reason: 'syntaxerror', confidence: 0.4, generic: true },
  { status: '6.', reason: 'contenterror', confidence: 0.6, generic: true },
  { status: '7.1', reason: 'policyviolation', confidence: 0.5, generic: true },
  { status: '7.13', reason: 'suspend', confidence: 0.8 },
  { status: '7.23', reason: 'authfailure', confidence: 0.9, strong: true },
  { status: '7.24', reason: 'authfailure', confidence: 0.9, strong: true },
  { status: '7.25', reason: 'requireptr', confidence: 0.9, strong: true },
  { status: '7.26', reason: 'authfailure', confidence: 0.9, strong: true },
  // RFC 7505 §4.2: our sender domain has a null MX.
  { status: '7.27', reason: 'rejected', confidence: 0.9 },
  { status: '7.', reason: 'securityerror', confidence: 0.4, generic: true },
];

/**
 * Reply-text patterns, tried in order on the lower-cased, whitespace-collapsed reply. Order
 * matters: a "rate limited due to IP reputation" is reputation, not speed; "Headers too
 * large" is content, not size; a "DNS error ... domain not found" is a lookup that failed,
 * not a domain known not to exist.
 */
export const TEXT_RULES: readonly TextRule[] = [
  // Providers' own published reply codes say more than their wording. Orange and La Poste
  // (OFR_xxx, LPNxxx_xxx): 506 spam, 505 overloaded, 102/107 sending IP refused, 426 locked
  // account, 416 no such recipient. Cox: AUP#CDRBL is its block list.
  {
    pattern: /\b(?:ofr|lpn)\d*_506\b/,
    reason: 'spamdetected',
    confidence: 0.9,
    overridesStatus: true,
  },
  {
    pattern: /\b(?:ofr|lpn)\d*_505\b/,
    reason: 'systemerror',
    confidence: 0.8,
    overridesStatus: true,
  },
  {
    pattern: /\b(?:ofr|lpn)\d*_10[27]\b|aup#cdrbl/,
    reason: 'blocked',
    confidence: 0.9,
    overridesStatus: true,
  },
  { pattern: /\b(?:ofr|lpn)\d*_426\b/, reason: 'suspend', confidence: 0.9, overridesStatus: true },
  {
    pattern: /\b(?:ofr|lpn)\d*_416\b/,
    reason: 'userunknown',
    confidence: 0.9,
    overridesStatus: true,
  },
  {
    pattern:
      /mail ?box (?:is )?full|mailbox (?:is )?over|mailbox exceeded|over ?quota|quota (?:exceeded|full|violation)|exceed(?:s|ed)? (?:\w+ )?(?:mailbox |storage |disk |user )?quota|(?:mailbox|user) (?:size )?(?:limit|exceeds)|mailbox size limit|exceeded storage allocation|not enough (?:storage|space) (?:in|for) (?:the )?(?:mailbox|user)|insufficient (?:mailbox )?space for (?:the )?user|mailbox has exceeded/,
    reason: 'mailboxfull',
    confidence: 0.9,
    overridesStatus: true,
  },
  {
    pattern: /message length exceeds|exceeds? (?:the )?limit set by (?:the )?recipient/,
    reason: 'exceedlimit',
    confidence: 0.8,
    overridesStatus: true,
  },
  {
    pattern: /headers? (?:too large|too long|exceed)|too many headers/,
    reason: 'contenterror',
    confidence: 0.6,
  },
  {
    pattern:
      /(?:account|mailbox|user|address)(?:[^.;]|\.(?=\S)){0,60}? (?:is |has been |was )?(?:disabled|suspended|inactive|deactivated|(?:temporary |temporarily )?locked|frozen|blocked|closed|expired)|(?:disabled|suspended|inactive|deactivated|locked|frozen) (?:account|mailbox|user)|(?:email )?(?:inbox|mailbox|address) (?:[^.;]|\.(?=\S)){0,60}?is no longer in use|not (?:an )?active (?:account|mailbox)/,
    reason: 'suspend',
    confidence: 0.8,
    overridesStatus: true,
  },
  {
    pattern: /\bhas moved\b|address (?:has )?changed|moved (?:permanently )?to (?:a )?new/,
    reason: 'hasmoved',
    confidence: 0.8,
    overridesStatus: true,
  },
  {
    pattern:
      /relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed)|prohibited)|unable to relay|not permitted to relay|no relaying|(?:we|i) do not relay|relay not permitted|email address is not verified/,
    reason: 'norelaying',
    confidence: 0.85,
    overridesStatus: true,
  },
  {
    pattern:
      /rate limited due to (?:ip )?reputation|(?:poor|bad|low) (?:ip |sender |domain )?reputation|reputation (?:of|is too low)|sender reputation/,
    reason: 'badreputation',
    confidence: 0.8,
    overridesStatus: true,
  },
  {
    pattern:
      /receiving mail at a rate|unusual rate|sent to too many recipients|too many (?:messages|mails|emails)|rate limit|throttl|slow down|sending (?:rate|limit)|exceeded (?:the )?(?:maximum )?(?:number of )?messages per/,
    reason: 'speeding',
    confidence: 0.75,
    overridesStatus: true,
  },
  {
    pattern:
      /too many (?:connections|concurrent|simultaneous|sessions|recipients)|connection (?:limit|rate limit)|frequency limited|max(?:imum)? (?:number of )?connections/,
    reason: 'toomanyconn',
    confidence: 0.75,
    overridesStatus: true,
  },
  {
    pattern:
      /refused due to recipient preferences|recipient preferences|blocked by (?:the )?recipient|recipient (?:has )?(?:blocked|rejected) (?:you|mail|messages)/,
    reason: 'filtered',
    confidence: 0.7,
    overridesStatus: true,
  },
  {
    pattern: /(?:rejected|blocked|refused|classified) (?:due to|as|for) (?:being )?spam(?!ming)/,
    reason: 'spamdetected',
    confidence: 0.8,
  },
  {
    pattern:
      /smtp authentication|authentication (?:is )?required|unauthenticated senders|must (?:be )?authenticat|turn on smtp auth|tls (?:is )?required|must issue a starttls/,
    reason: 'securityerror',
    confidence: 0.7,
  },
  {
    pattern:
      /\b(?:spf|dkim|dmarc)\b|sender is unauthenticated|unauthenticated (?:e-?mail|message)|authentication (?:checks? )?fail|does not have authentication information|fails? to pass (?:the )?(?:authentication|sender)/,
    reason: 'authfailure',
    confidence: 0.75,
  },
  {
    pattern:
      /reverse (?:dns|lookup|mapping)|\bptr\b|\brdns\b|unverifiable sending|unverifyable sending|no (?:dns )?reverse|hostname (?:does not|doesn't) match/,
    reason: 'requireptr',
    confidence: 0.75,
  },
  {
    pattern:
      /multiple addresses in from|not (?:rfc ?)?(?:5322|2822|822)[ -]?compliant|rfc ?(?:5322|2822) (?:violation|section)|(?:missing|duplicate|malformed|invalid) (?:from|date|message-id) header|message-id header (?:is )?missing/,
    reason: 'notcompliantrfc',
    confidence: 0.75,
  },
  { pattern: /virus|malware|infected|trojan/, reason: 'virusdetected', confidence: 0.8 },
  {
    pattern:
      /sender (?:address )?(?:rejected|refused|denied|blocked|invalid|verify failed)|unroutable sender|sender domain|from: domain is invalid|purported responsible address|mail ?from domain is listed|sending (?:to\/from|from) an address that has been|domain of (?:the )?sender|sender (?:is )?not (?:allowed|authorized|permitted)|invalid sender/,
    reason: 'rejected',
    confidence: 0.7,
  },
  {
    pattern: /host or domain name not found|domain (?:does not|doesn't) exist|no such domain/,
    reason: 'hostunknown',
    confidence: 0.85,
  },
  {
    pattern:
      /null mx|(?:does not|doesn't|did not) (?:accept|receive) (?:any )?(?:e-?)?mail|accepts no mail|no mx (?:record )?found|not accepting (?:any )?(?:e-?)?mail/,
    reason: 'notaccept',
    confidence: 0.8,
  },
  {
    pattern:
      /dns error|name service error|host name lookup failure|name server reply|dns (?:query|lookup) (?:failed|failure)|lookup of \S+ (?:responded|had no)|temporary (?:dns|lookup) failure|no route to host|network (?:is )?unreachable|connection reset|lost connection|name server timeout/,
    reason: 'networkerror',
    confidence: 0.7,
  },
  {
    pattern:
      /message expired|envelope expired|delivery time expired|retry time(?:out)? (?:has )?(?:expired|exceeded)|(?:delivery|retry) period (?:has )?expired/,
    reason: 'expired',
    confidence: 0.8,
  },
  {
    pattern:
      /blocked using|block ?list|black ?list|blacklisted|\b(?:rbl|dnsbl)\b|spamhaus|spamcop|barracuda|client host \S*\s?(?:blocked|rejected)|ip (?:address )?(?:\S+ )?(?:is |has been )?(?:blocked|banned|listed)|banned sending ip|(?<!not )listed (?:in|on|at) |messages from \S+ weren'?t sent|invalid ip for sending|blocked for abuse|service refus|refused to talk to me|connection refused|\(bl\)|access denied[^.]{0,40}\bip\b|ip frequency|your (?:ip|network|server) (?:address )?(?:has been |is )?(?:blocked|rejected|not allowed)/,
    reason: 'blocked',
    confidence: 0.8,
  },
  {
    pattern:
      /spam|junk|unsolicited|\bube\b|bulk mail|content (?:rejected|refused)|message (?:content )?(?:was )?(?:rejected|refused) (?:as|because|due)|suspicious content/,
    reason: 'spamdetected',
    confidence: 0.75,
  },
  {
    pattern:
      /recipient name is not recognized|invalid final delivery userid|no valid recipients|check if (?:the )?address is correct|recip(?:ient)?notfound|email account that you tried to reach does not exist|mailbox (?:does not|doesn't) exist|mailbox (?:unavailable|not found)|recipient address rejected: access denied|dd this user doesn'?t have|(?:invalid|unknown) recipient|recipient (?:unknown|invalid)|not a valid (?:mailbox|recipient)|adresse (?:d au moins un )?destinataire invalide|address rejected|no (?:such )?mailbox|user not found|not listed in (?:the )?(?:public )?(?:name|address|directory)/,
    reason: 'userunknown',
    confidence: 0.85,
  },
  {
    pattern:
      /user unknown|unknown user|unknown or illegal|no such (?:user|recipient|account|address)|user (?:does not|doesn't|not) exist|(?:does not|doesn't|did not) exist|doesn'?t have an? [\w.-]+ account|unknown (?:mailbox|local[- ]part|alias)|invalid (?:mailbox|address|user)|no longer (?:on|at|with) |recipient not found/,
    reason: 'userunknown',
    confidence: 0.8,
    weak: true,
  },
  {
    pattern:
      /host unknown|unknown host|domain (?:not found|does not exist|is not reachable|unknown)|no such domain|host or domain name not found|unrouteable (?:mail )?(?:domain|address)|\bnxdomain\b|host not found/,
    reason: 'hostunknown',
    confidence: 0.8,
  },
  {
    pattern:
      /insufficient (?:system |disk )?(?:storage|space)|system (?:is )?full|disk (?:is )?full|out of (?:disk|storage)/,
    reason: 'systemfull',
    confidence: 0.7,
  },
  {
    pattern:
      /too (?:big|large)|exceeds (?:the )?(?:maximum )?(?:message )?size|size limit|line limit exceeded|message size/,
    reason: 'mesgtoobig',
    confidence: 0.8,
  },
  {
    pattern:
      /(?:delivery|retry) (?:time(?:out)?|period) (?:has )?(?:expired|exceeded)|retry timeout exceeded|message expired|could not be delivered for \S+ (?:hours|days)|in the queue too long|did not accept our requests to connect|connection timed out|timed out|expired after|too long in (?:the )?queue|failing for a long time|aborted after \S+ (?:hour|day)/,
    reason: 'expired',
    confidence: 0.7,
  },
  {
    pattern: /procmail|lock failure|mailer error|local delivery failed|pipe to |\bmda\b/,
    reason: 'mailererror',
    confidence: 0.6,
  },
  {
    pattern: /header error|polic(?:y|ies)|not allowed|prohibit|content presents a potential/,
    reason: 'policyviolation',
    confidence: 0.55,
  },
  {
    pattern:
      /try again later|temporar(?:il)?y|closing (?:transmission|connection)|service (?:is )?(?:currently )?(?:not )?(?:available|unavailable)|system error|internal (?:server )?error|local error|could not load/,
    reason: 'systemerror',
    confidence: 0.5,
  },
  {
    pattern: /syntax error|command unrecognized|bad (?:command|sequence)|unrecognized command/,
    reason: 'syntaxerror',
    confidence: 0.6,
  },
];

/** What a failure means at a destination whose notices never say why, keyed by domain. */
export interface RecipientDomainRule {
  domain: RegExp;
  reason: BounceReason;
  confidence: number;
}

export const RECIPIENT_DOMAIN_RULES: readonly RecipientDomainRule[] = [
  // Google Groups answers in the poster's language and only ever means "you may not post
  // here" (not a member, or no such group): a refusal of our sender.
  { domain: /(?:^|\.)googlegroups\.com$/, reason: 'rejected', confidence: 0.7 },
];
