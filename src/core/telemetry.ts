import type { ExchangeContext } from "./exchange-context.js";

/** The pipeline stages, as named in src/core/pipeline.ts (span and metric label values). */
export type StageName = "authenticate" | "validate" | "authorize" | "route" | "fetch" | "release" | "audit";

/**
 * What the pipeline tells an observer about timing and tracing. Core stays
 * free of OpenTelemetry: the adapter (src/adapters/otel) turns these calls into
 * spans and histograms. Implementations must not throw.
 */
export interface Telemetry {
  /** Opens the exchange's trace; continues `ctx.traceparent` when the caller sent one. */
  exchangeStart(ctx: ExchangeContext): void;
  /** Closes it, after the audit record and the observers (ctx is complete). */
  exchangeEnd(ctx: ExchangeContext): void;
  /** Runs one stage (sync or async) inside its span; returns what `fn` returns. */
  stage<T>(ctx: ExchangeContext, name: StageName, fn: () => T): T;
  /**
   * Runs one provider call inside a client span; `fn` gets the W3C traceparent
   * (https://www.w3.org/TR/trace-context/) to send to the provider, if tracing is on.
   */
  providerCall<T>(ctx: ExchangeContext, agencyId: string, fn: (traceparent: string | undefined) => Promise<T>): Promise<T>;
}

/** Telemetry that observes nothing: the default when no adapter is configured. */
export const NO_TELEMETRY: Telemetry = Object.freeze({
  exchangeStart() {},
  exchangeEnd() {},
  stage: <T>(_ctx: ExchangeContext, _name: StageName, fn: () => T): T => fn(),
  providerCall: <T>(_ctx: ExchangeContext, _agencyId: string, fn: (traceparent: string | undefined) => Promise<T>): Promise<T> => fn(undefined),
});

/**
 * Security gauges fed by other modules: the incidents module reports how many
 * incidents are open per level (I … IV), the posture monitor the state of each
 * control. Both replace the previous values.
 */
export interface SecurityGauges {
  setIncidentsOpen(byLevel: Readonly<Record<string, number>>): void;
  setPostureControls(controls: ReadonlyArray<{ readonly id: string; readonly status: "pass" | "warn" | "fail" }>): void;
}

export const NO_SECURITY_GAUGES: SecurityGauges = Object.freeze({ setIncidentsOpen() {}, setPostureControls() {} });
