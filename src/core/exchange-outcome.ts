import type { ExchangeContext } from "./exchange-context.js";
import { isPolicyDenial } from "./stages/audit.js";

/** How one exchange ended, as metric labels and log fields (bounded values only). */
export interface ExchangeOutcome {
  /** The policy's answer, as in the audit record's DecisionEffect: "allow", "deny", or "none" (refused before a decision). */
  readonly decision: "allow" | "deny" | "none";
  /** "ok", "partial" (a provider failed; the rest was released), or the error reason of errors.ts. */
  readonly outcome: string;
}

export function exchangeOutcomeOf(ctx: ExchangeContext): ExchangeOutcome {
  const decision = ctx.decision && !ctx.error ? "allow" : ctx.decision || isPolicyDenial(ctx.error) ? "deny" : "none";
  if (ctx.error) return { decision, outcome: ctx.error.reason };
  const partial = (ctx.outcomes ?? []).some((o) => o.status !== "OK");
  return { decision, outcome: partial ? "partial" : "ok" };
}
