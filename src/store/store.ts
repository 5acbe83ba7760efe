// The storage ports are the core's: a store implements them. Re-exported for the store's code.
export type {
  LogTruncation,
  NewVisitor,
  NewVisitorLog,
  PassChangeFeed,
  PassStore,
  PurgeBatches,
  SharingReportQuery,
  SharingReportRow,
  StoreLifecycle,
  VisitLogStore,
  VisitorAnalytics,
  VisitorChanges,
  VisitorCountFilter,
  VisitorFilter,
  VisitorStore,
} from "../core/ports.js";
