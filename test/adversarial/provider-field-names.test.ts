/**
 * Adversarial: the catalogue is the allow-list of fields, and prohibited data
 * (Credit Investigation Regulation Art. 14.1) is caught under any spelling. A
 * provider (standing in for safe over the federation's real mTLS) answers a
 * forex_violation record with two fields the catalogue lists, prohibited data
 * under names an exact snake_case match missed (camelCase, synonyms, Chinese,
 * separators), and fields the catalogue does not list. The requester receives
 * the listed fields only; the prohibited ones raise the prohibited-data
 * incident, the unknown ones are counted per provider
 * (credex_provider_unknown_fields_total) and raise a provider-data-quality
 * incident; the audit record counts both.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AgencyStatus, QueryRequestSchema, QueryResponseSchema } from "../../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { auditEventOf, startTestFederation } from "../support/federation.js";
import { agencyTls, expectStillServing, QUERY_PATH, rawClient, type RawClient } from "../support/adversarial.js";
import { startFaultProvider, untilCalled, type FaultProvider } from "../support/fault-provider.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let provider: FaultProvider;
let client: RawClient;

const LISTED = ["violation", "fine_cny"];
const PROHIBITED = ["bloodType", "religiousBelief", "genome", "hiv_status", "宗教信仰", "fingerPrint", "Medical-History"];
const UNKNOWN = ["internal_risk_note", "customer_phone"];

beforeAll(async () => {
  fed = await startTestFederation();
  const address = fed.agencies.get("safe")!.address;
  await fed.stopAgency("safe");
  provider = await startFaultProvider({
    listen: address,
    tls: { cert: fed.pki.agencies["safe"]!.server.cert, key: fed.pki.agencies["safe"]!.server.key, ca: fed.pki.caBundle },
    fault: "field-names",
    fieldNames: [...LISTED, ...PROHIBITED, ...UNKNOWN],
  });
  client = rawClient(fed.gateway.address, agencyTls(fed, "csrc"));
});
afterAll(async () => {
  client?.close();
  await provider?.stop();
  await fed?.cleanup();
});

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    })
      .on("error", reject)
      .end();
  });
}

const ask = { subject: DEMO_SUBJECTS.tradingCompany, categories: ["forex_violation"], purpose: Purpose.SUPERVISION, requestId: "it-field-names" };

describe("adversarial: field names a provider chooses", () => {
  it("Art. 14.1 and the allow-list: the requester receives only the fields the catalogue lists; prohibited and unknown fields are dropped, counted, audited and raise incidents", async () => {
    const bytes = await untilCalled(provider, () => client.call(QUERY_PATH, Buffer.from(toBinary(QueryRequestSchema, create(QueryRequestSchema, ask)))), 10_000);
    const sent = provider.lastAnswer()!;
    for (const name of [...PROHIBITED, ...UNKNOWN]) {
      expect(sent.includes(Buffer.from(`${name}-value`)), `the provider sent ${name}`).toBe(true);
      // Neither the name nor the value reaches the requester.
      expect(bytes.includes(Buffer.from(name)), name).toBe(false);
      expect(bytes.includes(Buffer.from(`${name}-value`)), name).toBe(false);
    }
    const response = fromBinary(QueryResponseSchema, bytes);
    const safe = response.results.find((r) => r.agencyId === "safe")!;
    expect(safe.status).toBe(AgencyStatus.OK);
    expect(safe.records.map((r) => r.recordId)).toEqual(["field-names-1"]);
    expect(safe.records[0]!.fields.map((f) => f.name)).toEqual(LISTED);
    expect(Object.fromEntries(safe.withheld.map((w) => [w.reason, [w.records, w.fields]]))).toEqual({ PROHIBITED: [0, PROHIBITED.length], UNKNOWN_FIELD: [0, UNKNOWN.length] });

    // The audit record counts what was withheld and why.
    const event = await auditEventOf(fed, (e) => e.exchangeId === response.exchangeId);
    expect(Object.fromEntries(event.release!.withheld.map((w) => [w.reason, w.fields]))).toEqual({ PROHIBITED: PROHIBITED.length, UNKNOWN_FIELD: UNKNOWN.length });
    expect(event.release!.releasedFieldNames).toEqual([...LISTED].sort());

    // Prohibited data: the level-III incident keyed by the provider, one piece of evidence per field.
    const prohibited = fed.incidents!.manager.list({ detector: "prohibited-data" });
    expect(prohibited.map((i) => [i.key, i.level, i.state])).toEqual([["safe", "III", "open"]]);
    expect(prohibited[0]!.evidence.count).toBe(PROHIBITED.length);
    expect(prohibited[0]!.evidence.exchangeIds).toContain(response.exchangeId);

    // Unknown fields: a provider-data-quality incident with their names as evidence, and the per-provider metric.
    const quality = fed.incidents!.manager.list({ detector: "provider-data-quality" });
    expect(quality.map((i) => [i.key, i.level])).toEqual([["safe", "IV"]]);
    expect(quality[0]!.evidence.attributes).toMatchObject({ last_unknown_fields: String(UNKNOWN.length), last_unknown_field_names: UNKNOWN.join(",") });
    expect(quality[0]!.summary).toContain("the catalogue does not list");
    const metrics = await get(fed.manifest.metrics!);
    expect(metrics).toMatch(new RegExp(`^credex_provider_unknown_fields_total\\{[^}]*agency="safe"[^}]*\\} ${UNKNOWN.length}$`, "m"));

    await expectStillServing(fed, "nfra", ["safe"]);
  });
});
