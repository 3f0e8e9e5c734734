import type { Envelope } from '@relais/domain';
import type { Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';
import { recordBreakerPause } from '../adapters/pauses';

/** What the command handler needs. */
export interface CampaignCommandPorts {
  store: Store;
  logger: Logger;
}

/**
 * A circuit breaker asked to pause a slice of a campaign (`campaign.pause` from analytics):
 * the pause is recorded and `campaign.paused` with its scope announced, in one transaction.
 * A repeated command (the slice is already paused) or one for a campaign that stopped
 * sending changes nothing, so redeliveries and late sweeps are harmless.
 */
export async function onCampaignPause(
  envelope: Envelope<'campaign.pause'>,
  ports: CampaignCommandPorts,
): Promise<void> {
  const { data } = envelope;
  const result = await recordBreakerPause(ports.store, {
    tenantId: envelope.tenantId,
    campaignId: data.campaignId,
    scope: data.scope,
    metric: data.metric,
    reason: data.reason,
    evidence: data.evidence,
  });
  ports.logger.info(
    {
      'event.action':
        result === 'paused' ? 'campaign.slice.paused' : 'campaign.slice.pause_ignored',
      relais: {
        tenant_id: envelope.tenantId,
        campaign_id: data.campaignId,
        provider: data.scope.provider,
        pool: data.scope.pool,
        metric: data.metric,
        result,
      },
    },
    result === 'paused' ? 'campaign slice paused by a circuit breaker' : 'pause command ignored',
  );
}
