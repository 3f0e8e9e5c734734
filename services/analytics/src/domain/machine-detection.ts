import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Why a pixel fetch or a click is attributed to a machine, or the proxy a human one came
 * through. Stored in `engagement_events.machine_reason`.
 */
export type EngagementReason =
  /** Apple Mail Privacy Protection: Apple fetches every image at delivery, read or not. */
  | 'apple-mpp'
  /** A mail security gateway or link scanner (by user agent or network). */
  | 'security-scanner'
  /** A HEAD request: a link checker, never a mail client showing an image. */
  | 'head-request'
  /** Sooner after delivery than a person can open (or open and click). */
  | 'too-soon'
  /** Every link of the message clicked within seconds: a scanner walking the links. */
  | 'all-links'
  /** Gmail's image proxy fetches when the person opens the mail: human, marked. */
  | 'google-image-proxy';

/** The verdict on one open or click. */
export interface EngagementVerdict {
  machine: boolean;
  /** The first rule that decided, or the human open's proxy; null for a plain human one. */
  reason: EngagementReason | null;
}

/** A known machine or proxy, as data: match by user-agent substring or by network. */
interface Agent {
  name: string;
  reason: EngagementReason;
  /** Case-insensitive substrings of the User-Agent header. */
  userAgents: readonly string[];
  /** Networks the agent fetches from (CIDR). */
  networks: readonly string[];
}

/**
 * The agents relais recognizes. Networks are the ranges the vendors publish for their mail
 * and proxy infrastructure (Apple owns 17.0.0.0/8; Microsoft's Exchange Online Protection,
 * Proofpoint, Mimecast and Barracuda list theirs in their SPF records and admin docs): an
 * ASN table condensed to prefixes, so no lookup service is needed. Extend the table, not
 * the code, when a new scanner shows up in the engagement events.
 */
export const KNOWN_AGENTS: readonly Agent[] = [
  {
    name: 'Apple Mail Privacy Protection',
    reason: 'apple-mpp',
    // MPP's fetcher sends a bare `Mozilla/5.0`, without platform or engine tokens.
    userAgents: [],
    networks: ['17.0.0.0/8'],
  },
  {
    name: 'Gmail image proxy',
    reason: 'google-image-proxy',
    userAgents: ['GoogleImageProxy', 'ggpht.com'],
    networks: [],
  },
  {
    name: 'Microsoft Defender for Office 365 / Exchange Online Protection',
    reason: 'security-scanner',
    userAgents: ['SafeLinks', 'Microsoft Office Protection'],
    networks: ['40.92.0.0/15', '40.107.0.0/16', '52.100.0.0/14', '104.47.0.0/17'],
  },
  {
    name: 'Proofpoint',
    reason: 'security-scanner',
    userAgents: ['Proofpoint', 'urldefense'],
    networks: ['148.163.128.0/19', '67.231.144.0/20'],
  },
  {
    name: 'Mimecast',
    reason: 'security-scanner',
    userAgents: ['Mimecast'],
    networks: ['205.139.110.0/24', '207.211.30.0/24'],
  },
  {
    name: 'Barracuda',
    reason: 'security-scanner',
    userAgents: ['Barracuda'],
    networks: ['64.235.144.0/20', '209.222.80.0/21'],
  },
  {
    name: 'Other scanners and HTTP libraries',
    reason: 'security-scanner',
    userAgents: [
      'Symantec',
      'MessageLabs',
      'Trend Micro',
      'Sophos',
      'IronPort',
      'Cisco',
      'FireEye',
      'Bitdefender',
      'Forcepoint',
      'HeadlessChrome',
      'python-requests',
      'Go-http-client',
      'curl/',
      'Wget',
      'bot',
      'crawler',
      'spider',
    ],
    networks: [],
  },
];

const BARE_MOZILLA = /^Mozilla\/5\.0$/;

interface CompiledAgent {
  reason: EngagementReason;
  userAgents: readonly string[];
  networks: BlockList;
}

const COMPILED: readonly CompiledAgent[] = KNOWN_AGENTS.map((agent) => {
  const networks = new BlockList();
  for (const cidr of agent.networks) {
    const [address = '', prefix = ''] = cidr.split('/');
    networks.addSubnet(address, Number(prefix), isIPv6(address) ? 'ipv6' : 'ipv4');
  }
  return {
    reason: agent.reason,
    userAgents: agent.userAgents.map((text) => text.toLowerCase()),
    networks,
  };
});

/** What the detector sees of one request. */
export interface EngagementRequest {
  method: string;
  userAgent: string;
  /** The client address (after trusted proxies); undefined when unknown. */
  ip: string | undefined;
  at: Date;
  /** When the message was delivered (or, unknown yet, rendered). */
  deliveredAt: Date;
}

/** Thresholds, from the service settings. */
export interface DetectionWindows {
  /** An open sooner than this after delivery is a machine. */
  machineOpenMs: number;
  /** A click sooner than this after delivery is a machine. */
  machineClickMs: number;
}

function agentOf(request: EngagementRequest): EngagementReason | null {
  const agent = request.userAgent.toLowerCase();
  const ip = request.ip?.startsWith('::ffff:') ? request.ip.slice(7) : request.ip;
  const family =
    ip === undefined ? undefined : isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  for (const known of COMPILED) {
    if (known.userAgents.some((text) => agent.includes(text))) return known.reason;
    if (ip !== undefined && family !== undefined && known.networks.check(ip, family)) {
      return known.reason;
    }
  }
  if (BARE_MOZILLA.test(request.userAgent.trim())) return 'apple-mpp';
  return null;
}

/** Decides whether a pixel fetch is a machine open. */
export function classifyOpen(
  request: EngagementRequest,
  windows: DetectionWindows,
): EngagementVerdict {
  if (request.method === 'HEAD') return { machine: true, reason: 'head-request' };
  const agent = agentOf(request);
  if (agent !== null && agent !== 'google-image-proxy') return { machine: true, reason: agent };
  if (request.at.getTime() - request.deliveredAt.getTime() < windows.machineOpenMs) {
    return { machine: true, reason: 'too-soon' };
  }
  return { machine: false, reason: agent };
}

/** What the detector knows of the message's other clicks. */
export interface ClickHistory {
  /** Links the message's HTML part tracked (from the token). */
  linkCount: number;
  /** Distinct links of the message clicked within the burst window, this one included. */
  distinctRecentLinks: number;
}

/**
 * Decides whether a click is a scanner's prefetch. Apple's MPP network does not click
 * links, so only scanners' agents and networks, timing and "every link at once" count.
 */
export function classifyClick(
  request: EngagementRequest,
  history: ClickHistory,
  windows: DetectionWindows,
): EngagementVerdict {
  if (request.method === 'HEAD') return { machine: true, reason: 'head-request' };
  const agent = agentOf(request);
  if (agent === 'security-scanner') return { machine: true, reason: agent };
  if (request.at.getTime() - request.deliveredAt.getTime() < windows.machineClickMs) {
    return { machine: true, reason: 'too-soon' };
  }
  if (history.linkCount >= 2 && history.distinctRecentLinks >= history.linkCount) {
    return { machine: true, reason: 'all-links' };
  }
  return { machine: false, reason: null };
}
