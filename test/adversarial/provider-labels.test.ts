/**
 * Adversarial (issue 16, item 6): the gateway, not the provider, decides the
 * level. A provider (here standing in for sh-credit over the federation's real
 * mTLS) labels every record level 1, positive: a level-4 income record and a
 * dishonest-debtor record that ended six years ago. Release judges each at the
 * stricter of its label and the catalogue (policies/categories.yaml): income is
 * level 4 and sensitive, dishonest_debtor is negative (Art. 16: not provided 5
 * years after the end), and the mislabelling raises one incident per provider.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgencyStatus } from "../../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { startTestFederation } from "../support/federation.js";
import { expectStillServing, sharedClient } from "../support/adversarial.js";
import { startFaultProvider, type FaultProvider } from "../support/fault-provider.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let provider: FaultProvider;

beforeAll(async () => {
  fed = await startTestFederation();
  const address = fed.agencies.get("sh-credit")!.address;
  await fed.stopAgency("sh-credit");
  provider = await startFaultProvider({
    listen: address,
    tls: { cert: fed.pki.agencies["sh-credit"]!.server.cert, key: fed.pki.agencies["sh-credit"]!.server.key, ca: fed.pki.caBundle },
    fault: "mislabel",
    agencyId: "sh-credit",
  });
});
afterAll(async () => {
  await provider?.stop();
  await fed?.cleanup();
});

const company = DEMO_SUBJECTS.tradingCompany;

/** sh-credit's part of an answer; asks until the gateway has reconnected to the provider's address (bounded backoff). */
async function shCreditAnswer(agency: string, categories: string[], purpose: Purpose) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await sharedClient(fed, agency).query({ subject: company, categories, purpose });
    const result = response.results.find((r) => r.agencyId === "sh-credit")!;
    if (result.status === AgencyStatus.OK || Date.now() > deadline) return { result, exchangeId: response.exchangeId };
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("item 6: the gateway, not the provider, decides the level", () => {
  it("item 6: a level-4 record labelled level 1 is withheld from a level-1 grant (restricted mode: level-1 data only)", async () => {
    fed.gateway.setRestrictedMode(true);
    try {
      const { result } = await shCreditAnswer("pbccrc", ["income"], Purpose.LOAN_APPROVAL);
      expect(result.status).toBe(AgencyStatus.OK);
      expect(provider.calls()).toBeGreaterThan(0);
      expect(result.records).toEqual([]);
      expect(result.withheld.map((w) => [w.reason, w.records])).toEqual([["LEVEL_ABOVE_GRANT", 1]]);
    } finally {
      fed.gateway.setRestrictedMode(false);
    }
  });

  it("item 6: a record of a negative category labelled positive and ended more than 5 years ago is withheld (Art. 16)", async () => {
    const { result } = await shCreditAnswer("pbccrc", ["dishonest_debtor"], Purpose.SUPERVISION);
    expect(result.status).toBe(AgencyStatus.OK);
    expect(result.records).toEqual([]);
    expect(result.withheld.map((w) => [w.reason, w.records])).toEqual([["NEGATIVE_EXPIRED", 1]]);
  });

  it("item 6: the mislabelling raises one provider-data-quality incident for the provider, its evidence growing with each exchange", async () => {
    const before = fed.incidents!.manager.list({ detector: "provider-data-quality" });
    const { exchangeId } = await shCreditAnswer("csrc", ["dishonest_debtor", "administrative_penalty"], Purpose.SUPERVISION);
    const incidents = fed.incidents!.manager.list({ detector: "provider-data-quality" });
    expect(incidents.map((i) => [i.key, i.agency, i.state, i.category])).toEqual([["sh-credit", "sh-credit", "open", "information-destruction"]]);
    const incident = incidents[0]!;
    expect(incident.evidence.exchangeIds).toContain(exchangeId);
    // The earlier exchanges (income, dishonest_debtor: one record each) and this one (two records) fed the same incident.
    expect(incident.evidence.count).toBe((before[0]?.evidence.count ?? 0) + 2);
    expect(incident.evidence.count).toBeGreaterThanOrEqual(4);
    expect(incident.evidence.attributes["properties"]).toBe("negative");
    expect(incident.summary).toContain("less strictly than the catalogue");
    await expectStillServing(fed, "nfra");
  });
});
