import { RelaisError } from '@relais/domain';

/** Where a campaign is in its life; see docs/api/campaign.md for the diagram. */
export type CampaignStatus =
  'draft' | 'scheduled' | 'launched' | 'sending' | 'paused' | 'completed' | 'cancelled';

/** What a user can ask of a campaign. */
export type CampaignAction = 'launch' | 'pause' | 'resume' | 'cancel';

/** The event a transition announces on the bus (through the outbox). */
export type CampaignEventType =
  'campaign.launched' | 'campaign.paused' | 'campaign.resumed' | 'campaign.cancelled';

/** The outcome of a permitted transition. */
export interface Transition {
  status: CampaignStatus;
  /** No event when a launch only schedules: the scheduler announces it when due. */
  event: CampaignEventType | null;
}

export interface TransitionContext {
  now: Date;
  scheduledAt: Date | null;
  /** Segmentation already wrote the recipient rows. */
  recipientsResolved: boolean;
}

const FINAL: ReadonlySet<CampaignStatus> = new Set(['completed', 'cancelled']);

function refuse(action: CampaignAction, status: CampaignStatus): never {
  throw new RelaisError('STATE_CONFLICT', `A ${status} campaign cannot ${action}.`, {
    details: { status, action },
  });
}

/** The lifecycle as one pure function: the only place that decides what is allowed. */
export function transition(
  status: CampaignStatus,
  action: CampaignAction,
  context: TransitionContext,
): Transition {
  switch (action) {
    case 'launch':
      if (status !== 'draft') refuse(action, status);
      return context.scheduledAt && context.scheduledAt > context.now
        ? { status: 'scheduled', event: null }
        : { status: 'launched', event: 'campaign.launched' };
    case 'pause':
      if (status !== 'launched' && status !== 'sending' && status !== 'scheduled') {
        refuse(action, status);
      }
      return { status: 'paused', event: 'campaign.paused' };
    case 'resume':
      if (status !== 'paused') refuse(action, status);
      // Paused before its recipients were resolved: segmentation ignored the launch, so the
      // resume must announce a launch again (segmentation is idempotent on launches).
      if (!context.recipientsResolved) {
        return context.scheduledAt && context.scheduledAt > context.now
          ? { status: 'scheduled', event: null }
          : { status: 'launched', event: 'campaign.launched' };
      }
      return { status: 'sending', event: 'campaign.resumed' };
    case 'cancel':
      if (FINAL.has(status)) refuse(action, status);
      return { status: 'cancelled', event: 'campaign.cancelled' };
    default: {
      const unreachable: never = action;
      throw new RelaisError('INTERNAL', `unknown action ${String(unreachable)}`);
    }
  }
}

/** Only drafts can be edited: after launch the recipients and content are fixed. */
export function assertEditable(status: CampaignStatus): void {
  if (status !== 'draft') {
    throw new RelaisError(
      'STATE_CONFLICT',
      `A ${status} campaign cannot be edited; only drafts can.`,
      {
        details: { status },
      },
    );
  }
}

/** One A/B variant as requested. */
export interface VariantInput {
  name: string;
  templateId: string;
  weight: number;
}

/**
 * Weights are percentages of the recipients and must add up to 100 (to 0.01, the stored
 * precision), so nobody is silently left out or counted twice.
 */
export function checkVariants(variants: readonly VariantInput[]): void {
  const names = new Set<string>();
  variants.forEach((variant, index) => {
    if (names.has(variant.name)) {
      throw new RelaisError('VALIDATION_FAILED', `variant name "${variant.name}" is used twice`, {
        details: { pointer: `/variants/${index}/name` },
      });
    }
    names.add(variant.name);
  });
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  if (Math.abs(total - 100) > 0.005) {
    throw new RelaisError('VALIDATION_FAILED', `variant weights add up to ${total}, not 100`, {
      details: { pointer: '/variants' },
    });
  }
}
