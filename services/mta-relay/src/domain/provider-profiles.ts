/**
 * How the large mailbox providers want to be sent to, as data: which MX hosts are theirs
 * (every domain they host shares one "site" and one set of limits, like KumoMTA's MX
 * rollup), how many connections and messages per connection they tolerate, the rate to
 * start at and never exceed, and the replies by which they say "slow down". Figures are
 * conservative starting points for one sending IP, not promises: the controller learns the
 * real ceiling from the replies. Override or extend them with the `providerProfiles` setting.
 */

/** One provider's shaping rules. */
export interface ProviderProfile {
  /** The site name, shared by every domain whose MX matches. */
  name: string;
  /** MX host patterns: `aspmx.l.google.com` exact, `*.google.com` any subdomain. */
  mxHosts: readonly string[];
  /** Recipient-domain patterns for destinations not found by MX (static routes, tests). */
  domains: readonly string[];
  /** Ceiling of concurrent connections (and sends in flight) from one IP pool. */
  maxConnections: number;
  /** Messages over one connection before it is replaced. */
  maxMessagesPerConnection: number;
  /** Rate a site without history starts at, messages per second. */
  initialRatePerSecond: number;
  /** Ceiling the additive increase stops at, messages per second. */
  maxRatePerSecond: number;
  /**
   * Reply patterns (case-insensitive regex sources) that mean "you are sending too fast or
   * too much": rate and concurrency are cut. A 421 always counts, whatever its text.
   */
  throttleReplies: readonly string[];
}

// Wording every provider uses in some form; each profile adds its own codes.
const GENERIC_THROTTLING = [
  String.raw`\brate[- ]limit`,
  String.raw`too many (connections|messages|concurrent|sessions|recipients)`,
  String.raw`too much (mail|traffic)`,
  String.raw`\bthrottl`,
  String.raw`(unusual|excessive|unexpected) (rate|volume)`,
];

/** The built-in profiles; `default` matches every site no other profile claims. */
export const PROVIDER_PROFILES: readonly ProviderProfile[] = [
  {
    name: 'google',
    mxHosts: ['*.google.com', '*.googlemail.com', 'aspmx.l.google.com'],
    domains: ['gmail.com', 'googlemail.com'],
    maxConnections: 20,
    maxMessagesPerConnection: 100,
    initialRatePerSecond: 20,
    maxRatePerSecond: 200,
    // 421-4.7.28 unusual rate of unsolicited mail; 421-4.7.0 try again later.
    throttleReplies: [String.raw`4\.7\.28\b`, String.raw`^421[- ]4\.7\.0\b`, ...GENERIC_THROTTLING],
  },
  {
    name: 'microsoft',
    mxHosts: ['*.protection.outlook.com', '*.olc.protection.outlook.com', '*.hotmail.com'],
    domains: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com'],
    maxConnections: 10,
    maxMessagesPerConnection: 50,
    initialRatePerSecond: 10,
    maxRatePerSecond: 100,
    // 451 4.7.650 rate limited due to IP reputation; 4.7.500 server busy; S3150/S3114 deferrals.
    throttleReplies: [
      String.raw`4\.7\.(650|500)\b`,
      String.raw`\bS3(150|114|115)\b`,
      ...GENERIC_THROTTLING,
    ],
  },
  {
    name: 'yahoo',
    mxHosts: ['*.yahoodns.net', '*.yahoo.com', '*.aol.com', '*.mx.aol.com'],
    domains: ['yahoo.com', 'ymail.com', 'aol.com', 'yahoo.fr'],
    maxConnections: 10,
    maxMessagesPerConnection: 20,
    initialRatePerSecond: 5,
    maxRatePerSecond: 60,
    // 421 4.7.0 [TSS04] temporarily deferred due to unexpected volume or user complaints.
    throttleReplies: [String.raw`\[(TSS0\d|TS0\d)\]`, ...GENERIC_THROTTLING],
  },
  {
    name: 'apple',
    mxHosts: ['*.mail.icloud.com', '*.mail.me.com'],
    domains: ['icloud.com', 'me.com', 'mac.com'],
    maxConnections: 5,
    maxMessagesPerConnection: 20,
    initialRatePerSecond: 5,
    maxRatePerSecond: 40,
    // iCloud says "450 4.7.1 too much mail from <ip>" and uses [CSxx] codes on deferrals.
    throttleReplies: [String.raw`^4\d\d .*\[CS0\d\]`, ...GENERIC_THROTTLING],
  },
  {
    name: 'orange',
    mxHosts: ['*.orange.fr', '*.wanadoo.fr'],
    domains: ['orange.fr', 'wanadoo.fr'],
    maxConnections: 3,
    maxMessagesPerConnection: 100,
    initialRatePerSecond: 2,
    maxRatePerSecond: 20,
    // 421 mwinf… Service refuse. Veuillez essayer plus tard. OFR004_104 / OFR005_… (rate).
    throttleReplies: [
      String.raw`\bOFR00[45]_\d+`,
      String.raw`veuillez essayer plus tard`,
      String.raw`trop de (connexions|messages)`,
      ...GENERIC_THROTTLING,
    ],
  },
  {
    name: 'sfr',
    mxHosts: ['*.sfr.fr', '*.neuf.fr'],
    domains: ['sfr.fr', 'neuf.fr', 'cegetel.net'],
    maxConnections: 3,
    maxMessagesPerConnection: 50,
    initialRatePerSecond: 2,
    maxRatePerSecond: 20,
    throttleReplies: [String.raw`trop de (connexions|messages)`, ...GENERIC_THROTTLING],
  },
  {
    name: 'free',
    mxHosts: ['*.free.fr'],
    domains: ['free.fr', 'aliceadsl.fr'],
    maxConnections: 3,
    maxMessagesPerConnection: 50,
    initialRatePerSecond: 2,
    maxRatePerSecond: 20,
    // 421 4.7.0 Too many concurrent connections from this IP.
    throttleReplies: [String.raw`^421 4\.7\.0\b`, ...GENERIC_THROTTLING],
  },
  {
    name: 'laposte',
    mxHosts: ['*.laposte.net'],
    domains: ['laposte.net'],
    maxConnections: 2,
    maxMessagesPerConnection: 50,
    initialRatePerSecond: 1,
    maxRatePerSecond: 10,
    // La Poste shares Orange's platform codes with an LPN prefix (LPN007_510 …).
    throttleReplies: [String.raw`\bLPN00[45]_\d+`, ...GENERIC_THROTTLING],
  },
  {
    name: 'gmx-webde',
    mxHosts: ['*.gmx.net', '*.gmx.com', '*.web.de', '*.kundenserver.de'],
    domains: ['gmx.de', 'gmx.net', 'gmx.com', 'web.de'],
    maxConnections: 5,
    maxMessagesPerConnection: 50,
    initialRatePerSecond: 3,
    maxRatePerSecond: 30,
    // 421-gmx.net (mxgmx) Too many connections / 451 … mail rate limit exceeded.
    throttleReplies: [String.raw`\bmail rate\b`, ...GENERIC_THROTTLING],
  },
  {
    name: 'default',
    mxHosts: [],
    domains: [],
    // The long tail of small servers: few connections, a rate that rarely binds until one
    // pushes back (each unknown exchange is a site of its own).
    maxConnections: 5,
    maxMessagesPerConnection: 100,
    initialRatePerSecond: 50,
    maxRatePerSecond: 500,
    throttleReplies: GENERIC_THROTTLING,
  },
];
