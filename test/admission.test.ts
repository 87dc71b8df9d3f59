/**
 * Issue 16 item 9: admission on every method. The per-agency rate and
 * concurrency limits (README "Limits") bound every CreditExchange method an
 * agency can call, not only Query and QueryStream: an agency over its limit is
 * refused on each method with the admission reason, and the refusal is audited
 * under that method; an agency within its limits is served.
 *
 * Real mTLS on 127.0.0.1 and real reference agencies (the demo federation).
 * The safe provider answers after SLOW_MS, so that queries asking for its
 * forex records stay in flight while the table's calls are made.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreditExchange } from "../src/gen/credex/v1/exchange_pb.js";
import { SubscribePhase } from "../src/gen/credex/v1/lists_pb.js";
import { ObjectionResolution } from "../src/gen/credex/v1/objections_pb.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import type { ExchangeClient } from "../src/client/exchange-client.js";
import { errorInfoOf } from "../src/adapters/grpc/rich-status.js";
import { auditEvents, startTestFederation } from "./support/federation.js";
import { sharedClient } from "./support/adversarial.js";
import { debtorEntry } from "./support/lists.js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DisclosureAction } from "../src/gen/credex/v1/disclosure_pb.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;

const SLOW_MS = 2_500;
const MAX_CALLS = 2;

beforeAll(async () => {
  fed = await startTestFederation({ limits: { maxConcurrentCallsPerAgency: MAX_CALLS }, providerDelayMs: { safe: SLOW_MS } });
});
afterAll(async () => {
  await fed?.cleanup();
});

type Outcome = { ok: true } | { ok: false; code: number; reason: string };
const settle = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    () => ({ ok: true }) as const,
    (err) => ({ ok: false, code: err.code as number, reason: errorInfoOf(err)?.reason ?? "" }),
  );

/** Opens a subscription and, once its snapshot is complete, leaves: resolves when served, rejects when refused. */
function subscribeOnce(client: ExchangeClient): Promise<void> {
  const subscription = client.subscribeLists({ listIds: ["dishonest_debtors"] }, (m) => {
    if (m.phase === SubscribePhase.SNAPSHOT_COMPLETE) subscription.cancel();
  });
  return subscription.ended;
}

/** Queries about a company the policy lets every agency here read without consent; pbccrc may for LOAN_APPROVAL. */
const company = DEMO_SUBJECTS.tradingCompany;
const quickQuery = { subject: company, categories: ["securities_violation"], purpose: Purpose.LOAN_APPROVAL };

interface MethodCase {
  readonly method: string;
  /** Who calls the method when within its limits (a list is published by its owner). */
  readonly within: string;
  call(client: ExchangeClient): Promise<unknown>;
  /** What an agency within its limits gets: the method's own answer, never an admission refusal. */
  readonly served: (outcome: Outcome) => void;
}

const ok = (outcome: Outcome) => expect(outcome).toEqual({ ok: true });
const refusedBy = (reason: string) => (outcome: Outcome) => expect(outcome).toMatchObject({ ok: false, reason });

const METHODS: readonly MethodCase[] = [
  { method: "Query", within: "pbccrc", call: (c) => c.query(quickQuery), served: ok },
  { method: "QueryStream", within: "pbccrc", call: (c) => c.queryStream(quickQuery), served: ok },
  {
    method: "RequestSpecialAccess",
    within: "pbccrc",
    call: (c) =>
      c.requestSpecialAccess({
        subject: DEMO_SUBJECTS.borrower,
        categories: ["securities_holding"],
        purpose: Purpose.LOAN_APPROVAL,
        justification: "Margin-loan collateral check requested by the borrower's bank, case 2026-117",
        durationSeconds: 3600,
        ownerAgency: "csrc",
      }),
    served: ok,
  },
  { method: "DecideSpecialAccess", within: "csrc", call: (c) => c.decideSpecialAccess({ applicationId: "00000000-0000-4000-8000-000000000000", approve: false }), served: refusedBy("SPECIAL_APPLICATION_UNKNOWN") },
  { method: "PublishListEntries", within: "sh-credit", call: (c) => c.publishListEntries({ entries: [debtorEntry(9_001)] }), served: ok },
  { method: "SubscribeLists", within: "pbccrc", call: (c) => subscribeOnce(c), served: ok },
  {
    method: "FileObjection",
    within: "pbccrc",
    call: (c) => c.fileObjection({ recordId: "sh-X-9999", ownerAgency: "sh-credit", subject: DEMO_SUBJECTS.logisticsFirm, grounds: "no such record: the owner says so" }),
    served: refusedBy("RECORD_NOT_FOUND"),
  },
  { method: "ResolveObjection", within: "sh-credit", call: (c) => c.resolveObjection({ objectionId: "no-such-objection", resolution: ObjectionResolution.CORRECTED }), served: refusedBy("OBJECTION_NOT_FOUND") },
  { method: "ListObjections", within: "pbccrc", call: (c) => c.listObjections({}), served: ok },
  { method: "ListObjectionAnswers", within: "pbccrc", call: (c) => c.listObjectionAnswers({}), served: ok },
  { method: "ListCorrectionNotices", within: "pbccrc", call: (c) => c.listCorrectionNotices({}), served: ok },
  { method: "ListSubjectQueries", within: "pbccrc", call: (c) => c.listSubjectQueries({ subject: DEMO_SUBJECTS.logisticsFirm }), served: refusedBy("SUBJECT_REQUEST_REQUIRED") },
  {
    method: "PublishDisclosures",
    within: "sh-credit",
    call: (c) =>
      c.publishDisclosures({
        entries: [
          {
            action: DisclosureAction.PUBLISH,
            category: "administrative_license",
            subject: company,
            subjectName: "Example Trading Co.",
            title: "Food business licence",
            decisionNumber: "JY-0001",
            decisionDate: timestampFromDate(new Date()),
            sourceDepartment: "SAMR Shanghai",
            legalBasis: "Food Safety Law Art. 35",
          },
        ],
      }),
    served: ok,
  },
];

/** Waits (bounded, asserting nothing about speed) until `check` holds: a cancelled stream's slot is released once the gateway sees the cancel. */
async function eventually(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** How many of `agency`'s `method` calls the audit shows refused with `reason`. */
async function refusalsAudited(agency: string, method: string, reason: string): Promise<number> {
  return (await auditEvents(fed)).filter((e) => e.requester?.agencyId === agency && e.method === method && e.statusReason === reason).length;
}

describe("item 9: admission on every method", () => {
  it("item 9: the table covers every CreditExchange method", () => {
    expect(METHODS.map((m) => m.method).sort()).toEqual(CreditExchange.methods.map((m) => m.name).sort());
  });

  describe("rate: an agency throttled to 1 request (burst 1, refilled after 1000 s)", () => {
    beforeAll(async () => {
      const limiter = fed.incidents?.limiter;
      if (!limiter) throw new Error("the test federation runs without its incident system: no rate limiter to exercise");
      limiter.throttle("nfra", { ratePerSecond: 0.001, burst: 1 });
      // Its one token is spent: every later call is over its rate.
      ok(await settle(sharedClient(fed, "nfra").listObjections({})));
    });
    afterAll(() => fed.incidents?.limiter.unthrottle("nfra"));

    it.each(METHODS)("item 9: fail/over its rate, $method → RESOURCE_EXHAUSTED RATE_LIMITED, audited", async ({ method, call }) => {
      const before = await refusalsAudited("nfra", method, "RATE_LIMITED");
      expect(await settle(call(sharedClient(fed, "nfra")))).toEqual({ ok: false, code: status.RESOURCE_EXHAUSTED, reason: "RATE_LIMITED" });
      expect(await refusalsAudited("nfra", method, "RATE_LIMITED")).toBe(before + 1);
    });
  });

  describe(`concurrency: an agency with ${MAX_CALLS} (maxConcurrentCallsPerAgency) slow queries in flight`, () => {
    it.each(METHODS)("item 9: fail/over its concurrent calls, $method → RESOURCE_EXHAUSTED TOO_MANY_CONCURRENT_CALLS, audited", async ({ method, call }) => {
      const client = sharedClient(fed, "csrc");
      // csrc may read safe's forex violations for SUPERVISION; safe answers after SLOW_MS.
      const slow = Array.from({ length: MAX_CALLS }, () => settle(client.query({ subject: company, categories: ["forex_violation"], purpose: Purpose.SUPERVISION })));
      await eventually("the slow queries to hold both slots", () => fed.gateway.limits.usage("csrc").calls === MAX_CALLS, SLOW_MS);
      const before = await refusalsAudited("csrc", method, "TOO_MANY_CONCURRENT_CALLS");
      const outcome = await settle(call(client));
      for (const s of await Promise.all(slow)) ok(s);
      expect(outcome).toEqual({ ok: false, code: status.RESOURCE_EXHAUSTED, reason: "TOO_MANY_CONCURRENT_CALLS" });
      expect(await refusalsAudited("csrc", method, "TOO_MANY_CONCURRENT_CALLS")).toBe(before + 1);
      // Slots are given back once the calls end.
      await eventually("csrc's slots to be given back", () => fed.gateway.limits.usage("csrc").calls === 0);
    });
  });

  describe("within its limits", () => {
    it.each(METHODS)("item 9: ok/within its limits, $method is served (its own answer, no admission refusal)", async ({ within, call, served }) => {
      served(await settle(call(sharedClient(fed, within))));
      await eventually(`${within}'s slot to be given back`, () => fed.gateway.limits.usage(within).calls === 0);
    });
  });
});
