import { describe, expect, it } from "vitest";
import { createJsonLogger } from "../adapters/log/json-logger.js";
import { CredexError } from "./errors.js";
import type { ExchangeContext } from "./exchange-context.js";
import { createExchangeLog } from "./exchange-log.js";
import { exchangeOutcomeOf } from "./exchange-outcome.js";

const SUBJECT = "91310110666007217T";

function context(over: Partial<ExchangeContext> = {}): ExchangeContext {
  return {
    exchangeId: "ex-1",
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    gatewayInstance: "gw-1",
    method: "Query",
    receivedAt: new Date(1_000),
    repliedAt: new Date(1_042),
    requestBytes: 120,
    rawSubject: { type: 2, id: SUBJECT },
    principal: { agencyId: "pbccrc", sector: "banking", uscc: "x", certFingerprint: "f", certSerial: "s" } as ExchangeContext["principal"],
    decision: { grants: [], denials: [], policyRevision: "rev-9", decidedAt: new Date(1_010) },
    outcomes: [
      { agencyId: "csrc", status: "OK", detail: "", records: [], bytes: 0, requestedAt: new Date(1_011), respondedAt: new Date(1_020) },
      { agencyId: "safe", status: "UNAVAILABLE", detail: "down", records: [], bytes: 0, requestedAt: new Date(1_011), respondedAt: new Date(1_020) },
    ],
    ...over,
  };
}

function logLines(successLevel: "debug" | "info", loggerLevel: "debug" | "info", ctx: ExchangeContext) {
  const lines: Record<string, unknown>[] = [];
  const logger = createJsonLogger({ component: "exchange", level: loggerLevel, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  createExchangeLog({ logger, pseudonymize: (type, id) => `pseudo(${type}:${id.length})`, successLevel })(ctx);
  return lines;
}

describe("createExchangeLog", () => {
  it("logs one line per exchange with the trace id and the subject's pseudonym, never the clear id", () => {
    const lines = logLines("info", "info", context());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "info",
      component: "exchange",
      msg: "exchange",
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      exchange_id: "ex-1",
      agency: "pbccrc",
      subject_pseudonym: "pseudo(2:18)",
      decision: "allow",
      outcome: "partial",
      providers: 2,
      providers_failed: 1,
      policy_revision: "rev-9",
      duration_ms: 42,
    });
    expect(JSON.stringify(lines)).not.toContain(SUBJECT);
  });

  it("logs successes at debug when asked, refusals always at info", () => {
    expect(logLines("debug", "info", context())).toEqual([]);
    const refused = logLines("debug", "info", context({ decision: undefined, outcomes: undefined, error: new CredexError("PURPOSE_NOT_PERMITTED") }));
    expect(refused.map((l) => [l["level"], l["decision"], l["outcome"]])).toEqual([["info", "deny", "PURPOSE_NOT_PERMITTED"]]);
    expect(logLines("debug", "debug", context())[0]?.["level"]).toBe("debug");
  });
});

describe("exchangeOutcomeOf", () => {
  it("labels ok, partial, denials and refusals before any decision", () => {
    expect(exchangeOutcomeOf(context({ outcomes: [] }))).toEqual({ decision: "allow", outcome: "ok" });
    expect(exchangeOutcomeOf(context())).toEqual({ decision: "allow", outcome: "partial" });
    expect(exchangeOutcomeOf(context({ decision: undefined, error: new CredexError("CLIENT_CERT_MISSING") }))).toEqual({ decision: "none", outcome: "CLIENT_CERT_MISSING" });
    expect(exchangeOutcomeOf(context({ error: new CredexError("AUDIT_UNAVAILABLE") }))).toEqual({ decision: "deny", outcome: "AUDIT_UNAVAILABLE" });
  });
});
