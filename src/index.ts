/**
 * The core: `createVisitorPass`, the `Visitor` and its errors, the storage ports, throttling and graceful shutdown. No web framework imported.
 *
 * @module visitor-pass
 */
export type {
  FreshLinkPageContext,
  FreshLinkPageRenderer,
  FreshLinksOptions,
  ThrottleOptions,
  VisitorPassLogger,
} from "./core/config.js";
export {
  InvalidVisitorPass,
  MalformedVisitorToken,
  PassAlreadyPromoted,
  PromotedPassError,
  UnclaimedRequestError,
  VisitorAccessDenied,
  VisitorPassConfigError,
  VisitorPassError,
  VisitorPassHttpError,
  VisitorPassStorageFull,
  VisitorPassThrottled,
  VisitorPassUnavailable,
  VisitorPassUriTooLong,
  VisitorPassValidationError,
} from "./core/errors.js";
export type {
  FreshLinkSentEvent,
  PassFlaggedSharedEvent,
  VisitorAdmittedEvent,
  VisitorPassEventHandler,
  VisitorPassEventMap,
  VisitorPassEventName,
  VisitorPromotedEvent,
} from "./core/events.js";
export type { GuardOptions, MatchRequest } from "./core/guard.js";
export { SCOPE_ANY } from "./core/guard.js";
export type { OutboxEntry } from "./core/link-outbox.js";
export { networkOf } from "./core/network.js";
export type {
  LogEntry,
  LogSearch,
  LogTruncation,
  NewVisitor,
  NewVisitorLog,
  PassChangeFeed,
  PassStore,
  PromotionResult,
  PurgeBatches,
  SessionPort,
  SharingReportQuery,
  SharingReportRow,
  StoreLifecycle,
  VisitLogStore,
  VisitorAnalytics,
  VisitorChanges,
  VisitorCountFilter,
  VisitorFilter,
  VisitorStore,
  VisitRequest,
} from "./core/ports.js";
export type { LogPage, PromoteInput, SearchLogsOptions } from "./core/promotion.js";
export type { LinkMessage, LinkReason, SendLink } from "./core/send-link.js";
export type {
  CountVisitorsInput,
  DailyVisits,
  SharingReportOptions,
  SharingSignals,
  SharingThresholds,
  VisitsOverTimeOptions,
} from "./core/sharing.js";
export type {
  RateLimiterLike,
  RedisClientLike,
  RedisThrottleStoreOptions,
  ThrottleBudget,
  ThrottleBudgetName,
  ThrottleLimit,
  ThrottleLimiter,
  ThrottleStore,
  ThrottleVerdict,
} from "./core/throttle.js";
export {
  memoryThrottleStore,
  rateLimiterStore,
  redisThrottleStore,
} from "./core/throttle.js";
export type {
  CreateVisitorInput,
  ListVisitorsInput,
  TruncateLogsOptions,
} from "./core/validation.js";
export type { SerializedVisitor, VisitorLog, VisitorRecord } from "./core/visitor.js";
export { Visitor } from "./core/visitor.js";
export type { PurgeOptions, VisitorPassEvents } from "./core/visitor-pass.js";
export type { VisitorPassOptions } from "./create-visitor-pass.js";
export { createVisitorPass, VisitorPass } from "./create-visitor-pass.js";
export type {
  SelfServiceInitial,
  SelfServiceOptions,
} from "./features/self-service/self-service.js";
export type {
  SelfServiceField,
  SelfServiceFieldValue,
} from "./features/self-service/self-service-fields.js";
export type { SuccessPage, SuccessRedirect } from "./features/self-service/self-service-success.js";
export type { WebhookOptions } from "./features/webhooks/webhook-options.js";
export { DEFAULT_WEBHOOK_EVENTS } from "./features/webhooks/webhook-options.js";
export type { WebhookPayload } from "./features/webhooks/webhook-payload.js";
export type { WebhookSender, WebhookStats } from "./features/webhooks/webhooks.js";
export { sendWebhooks } from "./features/webhooks/webhooks.js";
export type {
  Closable,
  CloseGracefullyOptions,
  CloseResult,
  HandleSignalsOptions,
} from "./server/graceful-close.js";
export { closeGracefully, handleSignals } from "./server/graceful-close.js";
