import type { AuditSink } from "../audit-sink.js";
import type { Authorizer } from "../authorizer.js";
import type { AuthenticateDeps } from "../stages/authenticate.js";
import type { Pseudonymize } from "../stages/audit.js";
import type { ListCatalogue } from "./list-catalogue.js";
import type { ListLog } from "./list-log.js";
import type { Admission } from "../limits/admission.js";

/** What list publishing and subscriptions need; built once by the gateway. */
export interface ListDeps {
  readonly authenticate: AuthenticateDeps;
  readonly authorizer: () => Authorizer;
  readonly catalogue: ListCatalogue;
  readonly log: ListLog;
  readonly auditSink: () => AuditSink;
  readonly pseudonymize: Pseudonymize;
  readonly clock: () => Date;
  readonly newId: () => string;
  /** Most entries one PublishListEntries call may carry. */
  readonly maxEntriesPerPublish: number;
  /** Most entries one SubscribeListsResponse carries. */
  readonly deliveryBatchSize: number;
  /** Most subscriptions one agency may hold open at once (each holds a log reader). */
  readonly maxSubscriptionsPerAgency: number;
  /** The gateway's one admission point (rate, concurrency); a subscription holds its slot while it is open. */
  readonly admission?: Admission | undefined;
}
