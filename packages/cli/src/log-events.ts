/**
 * Every log event the `relais` command itself writes (services keep their own registries),
 * keyed by its `event.action`. Entries are only ever added; `log-events.test.ts` fails when
 * the code writes one that is not listed here.
 */
export const CLI_LOG_EVENTS = {
  'relais.embedded_identity':
    'Embedded mode invented the sending identity (relais.test domains, per-process secrets).',
  'relais.simulator_started':
    'Embedded mode started the provider simulator; all mail goes to it, none leaves the host.',
  'relais.demo.finished': 'Every demo recipient reached a final state; the summary follows.',
} as const;

/** One of the command's stable log event codes. */
export type CliLogEvent = keyof typeof CLI_LOG_EVENTS;
