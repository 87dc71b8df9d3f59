import type { ExchangeContext } from "./exchange-context.js";
import { exchangeOutcomeOf } from "./exchange-outcome.js";
import type { Logger, LogLevel } from "./logger.js";
import type { Pseudonymize } from "./stages/audit.js";

export interface ExchangeLogOptions {
  readonly logger: Logger;
  readonly pseudonymize: Pseudonymize;
  /** Level of exchanges that ended "ok" or "partial" (default "info"); refusals and failures always log at info. */
  readonly successLevel?: LogLevel;
}

/**
 * An onExchange observer writing one line per exchange: ids, requester,
 * decision, outcome, counts and duration. The subject appears only as its
 * keyed pseudonym, the same one as in the audit record, so an officer can
 * join the two without the clear id ever reaching a log (DOMAIN.md).
 */
export function createExchangeLog(options: ExchangeLogOptions): (ctx: ExchangeContext) => void {
  const successLevel = options.successLevel ?? "info";
  return (ctx) => {
    try {
      const { decision, outcome } = exchangeOutcomeOf(ctx);
      const level: LogLevel = outcome === "ok" || outcome === "partial" ? successLevel : "info";
      if (!options.logger.enabled(level)) return;
      const subject = ctx.rawSubject && ctx.rawSubject.id !== "" ? options.pseudonymize(ctx.rawSubject.type, ctx.rawSubject.id) : undefined;
      const stats = ctx.release?.stats;
      options.logger.log(level, "exchange", {
        trace_id: ctx.traceId,
        exchange_id: ctx.exchangeId,
        method: ctx.method,
        agency: ctx.principal?.agencyId ?? ctx.claimedAgency,
        subject_pseudonym: subject,
        categories: ctx.query ? ctx.query.categories.length : undefined,
        decision,
        outcome,
        providers: ctx.outcomes?.length,
        providers_failed: ctx.outcomes?.filter((o) => o.status !== "OK").length,
        records_released: stats?.recordsReleased,
        records_withheld: stats?.recordsWithheld,
        policy_revision: ctx.decision?.policyRevision,
        duration_ms: ctx.repliedAt ? ctx.repliedAt.getTime() - ctx.receivedAt.getTime() : undefined,
      });
    } catch {
      // An observer must not fail the exchange (PipelineDeps.onExchange).
    }
  };
}
