/**
 * Adversarial: what a member agency's provider answers is not trusted either.
 * A provider that adds fields this schema does not know (a newer schema, or
 * content smuggled past the release stage's level checks) has its record
 * released with only the known fields, on both Query and QueryStream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AgencyStatus, QueryRequestSchema, QueryResponseSchema, QueryStreamRequestSchema, QueryStreamResponseSchema } from "../../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { startTestFederation } from "../support/federation.js";
import { agencyTls, expectStillServing, QUERY_PATH, QUERY_STREAM_PATH, rawClient, type RawClient } from "../support/adversarial.js";
import { SMUGGLED_TEXT, startFaultProvider, untilCalled, type FaultProvider } from "../support/fault-provider.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let provider: FaultProvider;
let client: RawClient;

beforeAll(async () => {
  fed = await startTestFederation();
  const address = fed.agencies.get("safe")!.address;
  await fed.stopAgency("safe");
  provider = await startFaultProvider({
    listen: address,
    tls: { cert: fed.pki.agencies["safe"]!.server.cert, key: fed.pki.agencies["safe"]!.server.key, ca: fed.pki.caBundle },
    fault: "unknown-fields",
  });
  client = rawClient(fed.gateway.address, agencyTls(fed, "csrc"));
});
afterAll(async () => {
  client?.close();
  await provider?.stop();
  await fed?.cleanup();
});

const ask = { subject: DEMO_SUBJECTS.tradingCompany, categories: ["forex_violation"], purpose: Purpose.SUPERVISION };

describe("adversarial: provider answers", () => {
  it("Query: the record is released with its known fields only; the unknown ones never reach the requester", async () => {
    const bytes = await untilCalled(provider, () => client.call(QUERY_PATH, Buffer.from(toBinary(QueryRequestSchema, create(QueryRequestSchema, ask)))), 10_000);
    expect(provider.lastAnswer()?.includes(SMUGGLED_TEXT), "the provider sent unknown fields").toBe(true);
    expect(bytes.includes(SMUGGLED_TEXT)).toBe(false);
    const safe = fromBinary(QueryResponseSchema, bytes).results.find((r) => r.agencyId === "safe")!;
    expect(safe.status).toBe(AgencyStatus.OK);
    expect(safe.records.map((r) => r.recordId)).toEqual(["unknown-fields-1"]);
    expect(safe.records[0]!.fields.map((f) => f.name)).toEqual(["violation"]);
  });

  it("QueryStream: the same", async () => {
    const messages = await untilCalled(provider, () => client.stream(QUERY_STREAM_PATH, Buffer.from(toBinary(QueryStreamRequestSchema, create(QueryStreamRequestSchema, { query: ask })))), 10_000);
    for (const m of messages) expect(m.includes(SMUGGLED_TEXT)).toBe(false);
    const records = messages.flatMap((m) => fromBinary(QueryStreamResponseSchema, m).batch?.records ?? []);
    expect(records.map((r) => r.recordId)).toContain("unknown-fields-1");
    await expectStillServing(fed, "nfra", ["safe"]);
  });
});
