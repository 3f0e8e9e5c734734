/**
 * Every `event.action` this service logs, with when it is written. Per-recipient facts are
 * never logged: they travel as `dispatch.batch` messages.
 */
export const SEGMENTATION_LOG_EVENTS = {
  'segmentation.recipients_resolved':
    'A launch wrote its message rows (count in relais.recipients).',
  'segmentation.campaign_skipped':
    'A launch or resume found the campaign not sendable or not owned by the tenant; nothing done.',
  'segmentation.dispatch_stopped': 'Publishing batches stopped because the campaign left sending.',
  'segmentation.dispatch_finished': 'Every pending recipient of the campaign has been queued.',
  'segmentation.campaign_completed': 'A campaign with no recipient to mail completed at once.',
} as const;

/** One of the codes above. */
export type SegmentationLogEvent = keyof typeof SEGMENTATION_LOG_EVENTS;
