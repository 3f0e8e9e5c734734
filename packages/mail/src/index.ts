export type {
  BuildMessageInput,
  BuiltMessage,
  FeedbackId,
  UnsubscribeOptions,
} from './build-message';
export { buildMessage, formatDate } from './build-message';
export type { Mailbox } from './header-safety';
export { checkAddress, cleanHeaderText } from './header-safety';
export type { TokenPurpose, TokenSecret, TokenSecrets } from './signed-token';
export { openToken, sealToken } from './signed-token';
export { decodeBase32, encodeBase32 } from './base32';
export type { VerpInput, VerpResult } from './verp';
export { parseVerp, verpAddress } from './verp';
export type { UnsubscribeTokenResult, UnsubscribeUrlInput } from './unsubscribe';
export { unsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from './unsubscribe';
export type { DkimAlgorithm, DkimSigner, DkimSignerOptions, SignOptions } from './dkim/signer';
export {
  createDkimSigner,
  DEFAULT_SIGNED_HEADERS,
  signMessage,
  signMessageAsync,
} from './dkim/signer';
export type { DkimKeyDescription, DnsRecordsInput, DnsTxtRecord } from './dns-records';
export { dnsRecords } from './dns-records';
export type { PreparedSubmission, SubmittedMessageInput } from './submitted-message';
export { prepareSubmittedMessage } from './submitted-message';
export type { TrackedHtml, TrackedLink, TrackingInput } from './tracking-html';
export { addTracking, checkTrackingBase } from './tracking-html';
export type { TrackingClaims, TrackingKind, TrackingTokenResult } from './tracking-token';
export {
  keyIdOf,
  linkKeyOf,
  MAX_TRACKED_LINKS,
  trackingToken,
  verifyTrackingToken,
} from './tracking-token';
