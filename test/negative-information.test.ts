/**
 * Negative information through a real gateway exchange (Credit Investigation
 * Regulation Art. 15, 16). Whether a record is negative is the catalogue's
 * call (policies/categories.yaml `negative`), not the provider's polarity:
 * - Art. 15: the demo bank holds two overdue loans of the borrower and
 *   notified the borrower of one; the other is withheld, NEGATIVE_NOT_NOTIFIED.
 * - Art. 16: a provider sending a dishonest-debtor record marked positive with
 *   neither an end nor an ongoing confirmation (which used to pass: the old
 *   check needed ended_at to exist and trusted the polarity) has it withheld,
 *   NEGATIVE_END_UNKNOWN, and raises a provider-data-quality incident.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AgencyStatus } from "../src/gen/credex/v1/exchange_pb.js";
import { Purpose, SubjectType } from "../src/gen/credex/v1/types_pb.js";
import { signConsent } from "../src/client/consent.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { NEGATIVE_INFORMATION_STEP } from "../src/demo/negative-information-step.js";
import { auditEventOf, startTestFederation } from "./support/federation.js";
import { sharedClient } from "./support/adversarial.js";
import { startFaultProvider, type FaultProvider } from "./support/fault-provider.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let provider: FaultProvider | undefined;

beforeAll(async () => {
  fed = await startTestFederation();
});
afterAll(async () => {
  await provider?.stop();
  await fed?.cleanup();
});

const borrower = DEMO_SUBJECTS.borrower;

function consent(categories: string[]) {
  const now = Date.now();
  return signConsent(
    {
      consentId: `consent-${Math.random().toString(16).slice(2)}`,
      subject: { type: SubjectType.NATURAL_PERSON, id: borrower.id },
      purpose: Purpose.SUPERVISION,
      categories,
      grantedAt: timestampFromDate(new Date(now - 60_000)),
      expiresAt: timestampFromDate(new Date(now + 3_600_000)),
      namesSensitiveCategories: false,
      requesterAgency: "csrc",
    },
    readFileSync(fed.pki.agencies["csrc"]!.client.key),
  );
}

describe("negative information (Art. 15, 16) through the gateway", () => {
  it("Art. 15: a person's negative record is released only with the provider's notice evidence; the one without is withheld and audited", async () => {
    const response = await fed.client("csrc").query({ subject: borrower, categories: ["loan_overdue"], purpose: Purpose.SUPERVISION, consent: consent(["loan_overdue"]) });
    const pbccrc = response.results.find((r) => r.agencyId === "pbccrc")!;
    expect(pbccrc.status).toBe(AgencyStatus.OK);
    expect(pbccrc.records.map((r) => r.recordId)).toEqual(["pbccrc-L-0003"]);
    // The released record carries its evidence: notified, and ongoing as last confirmed.
    const released = pbccrc.records[0]!;
    expect(timestampDate(released.notifiedAt!).getTime()).toBeLessThan(Date.now());
    expect(released.ongoing).toBe(true);
    expect(released.lastConfirmedAt).toBeDefined();
    expect(pbccrc.withheld.map((w) => [w.reason, w.records])).toEqual([["NEGATIVE_NOT_NOTIFIED", 1]]);
    const event = await auditEventOf(fed, (e) => e.exchangeId === response.exchangeId);
    expect(event.release!.withheld.map((w) => [w.reason, w.records])).toEqual([["NEGATIVE_NOT_NOTIFIED", 1]]);
  });

  it("Art. 15: the demo's step shows the withheld negative record as scripted", async () => {
    const rows = await NEGATIVE_INFORMATION_STEP.run(fed);
    expect(rows.map((r) => [r.outcome, r.perAgency.includes("pbccrc:1 (1 withheld)"), r.asExpected])).toEqual([["answered", true, true]]);
  });

  it("Art. 16: an ongoing dishonest-debtor listing, confirmed recently, is released (court lists are public by law: no notice needed)", async () => {
    const response = await fed.client("csrc").query({ subject: DEMO_SUBJECTS.logisticsFirm, categories: ["dishonest_debtor"], purpose: Purpose.SUPERVISION });
    const sh = response.results.find((r) => r.agencyId === "sh-credit")!;
    expect(sh.records.map((r) => r.recordId)).toEqual(["sh-D-0005"]);
    expect(sh.withheld).toEqual([]);
  });

  it("Art. 16: a negative-category record marked positive with no end and no ongoing confirmation is withheld and reported (it used to pass)", async () => {
    const address = fed.agencies.get("sh-credit")!.address;
    await fed.stopAgency("sh-credit");
    provider = await startFaultProvider({
      listen: address,
      tls: { cert: fed.pki.agencies["sh-credit"]!.server.cert, key: fed.pki.agencies["sh-credit"]!.server.key, ca: fed.pki.caBundle },
      fault: "unended",
      agencyId: "sh-credit",
      fieldNames: ["court", "case_no"],
    });
    const company = DEMO_SUBJECTS.tradingCompany;
    // The gateway reconnects to the provider's address with a bounded backoff (provider-client.ts).
    const deadline = Date.now() + 10_000;
    let sh;
    let exchangeId = "";
    do {
      const response = await sharedClient(fed, "csrc").query({ subject: company, categories: ["dishonest_debtor"], purpose: Purpose.SUPERVISION });
      sh = response.results.find((r) => r.agencyId === "sh-credit")!;
      exchangeId = response.exchangeId;
      if (sh.status !== AgencyStatus.OK) await new Promise((r) => setTimeout(r, 100));
    } while (sh.status !== AgencyStatus.OK && Date.now() < deadline);
    expect(sh.status).toBe(AgencyStatus.OK);
    expect(provider.calls()).toBeGreaterThan(0);
    expect(sh.records).toEqual([]);
    expect(sh.withheld.map((w) => [w.reason, w.records])).toEqual([["NEGATIVE_END_UNKNOWN", 1]]);
    const incident = fed.incidents!.manager.list({ detector: "provider-data-quality" }).find((i) => i.key === "sh-credit")!;
    expect(incident.evidence.exchangeIds).toContain(exchangeId);
    expect(incident.evidence.attributes).toMatchObject({ last_negative_without_end: "1", properties: "negative" });
    expect(incident.summary).toContain("no end and no ongoing confirmation (Art. 16)");
  });
});
