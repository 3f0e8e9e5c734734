import type { Envelope } from '@relais/domain';
import type { AnalyticsPorts } from '../ports';

/**
 * The queue is bound to every event and every `campaign.*`; a type without a handler would
 * be dead-lettered. Engagement, feedback and suppression figures, and campaign lifecycle
 * reactions (auto-pause), are not kept yet (issue 7): these are acknowledged unread.
 */
export async function acknowledge(_envelope: Envelope, _ports: AnalyticsPorts): Promise<void> {}
