/**
 * Adversarial protocol input: property-based fuzzing (fast-check) of every
 * CreditExchange request message, invalid UTF-8, deep nesting, oversized
 * messages, unknown methods, and what only a raw HTTP/2 client can send
 * (wrong content-type, truncated frames). The gateway must answer each with a
 * catalogued reason (never INTERNAL, never a crash), audit every call its
 * handler saw, and keep serving.
 */
import { readFileSync } from "node:fs";
import { status, type ServiceError } from "@grpc/grpc-js";
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueryRequestSchema, QueryResponseSchema, QueryStreamRequestSchema, QueryStreamResponseSchema, type QueryRequest } from "../../src/gen/credex/v1/exchange_pb.js";
import { ConsentGrantSchema, type Purpose, type SubjectType } from "../../src/gen/credex/v1/types_pb.js";
import { ERROR_CATALOGUE, type ErrorReason } from "../../src/core/errors.js";
import { errorInfoOf } from "../../src/adapters/grpc/rich-status.js";
import { signConsent } from "../../src/client/consent.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { auditEvents, failureOf, startTestFederation } from "../support/federation.js";
import { agencyTls, expectStillServing, QUERY_PATH, QUERY_STREAM_PATH, rawClient, type RawClient } from "../support/adversarial.js";
import { connectRawHttp2, grpcFrame, rawRequest } from "../support/raw-http2.js";
import type { ClientHttp2Session } from "node:http2";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let client: RawClient;
let pbccrcKey: Buffer;

beforeAll(async () => {
  fed = await startTestFederation();
  client = rawClient(fed.gateway.address, agencyTls(fed, "pbccrc"));
  pbccrcKey = readFileSync(fed.pki.agencies["pbccrc"]!.client.key);
});
afterAll(async () => {
  client?.close();
  await fed?.cleanup();
});

/** Seeds fast-check from FC_SEED when a failure is being replayed; otherwise random, reported on failure. */
const FC_PARAMS = { numRuns: Number(process.env["FC_RUNS"] ?? 40), ...(process.env["FC_SEED"] ? { seed: Number(process.env["FC_SEED"]) } : {}) };

type Outcome = { ok: true } | { ok: false; code: number; reason: string };

async function outcomeOf(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
    return { ok: true };
  } catch (err) {
    return { ok: false, code: (err as ServiceError).code, reason: errorInfoOf(err as ServiceError)?.reason ?? "" };
  }
}

/** The property every request must satisfy: an answer, or a catalogued refusal with its catalogued code; never INTERNAL. */
function expectCatalogued(outcome: Outcome): void {
  if (outcome.ok) return;
  expect(Object.keys(ERROR_CATALOGUE)).toContain(outcome.reason);
  expect(outcome.reason).not.toBe("INTERNAL");
  expect(outcome.code).toBe(ERROR_CATALOGUE[outcome.reason as ErrorReason][0]);
}

async function query(bytes: Buffer): Promise<Outcome> {
  return outcomeOf(client.call(QUERY_PATH, bytes).then((b) => fromBinary(QueryResponseSchema, b)));
}
async function queryStream(bytes: Buffer): Promise<Outcome> {
  return outcomeOf(client.stream(QUERY_STREAM_PATH, bytes).then((msgs) => msgs.map((b) => fromBinary(QueryStreamResponseSchema, b))));
}

const CATEGORIES = ["administrative_penalty", "securities_violation", "forex_violation", "loan_overdue", "income", "real_estate", "business_registration", "horoscope"];
/** Strings of every shape: empty, ASCII, any code point (lone surrogates are re-encoded as U+FFFD by toBinary), long. */
const anyString = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "binary", maxLength: 40 }), fc.string({ minLength: 500, maxLength: 3_000 }));
const subjectId = fc.oneof(fc.constantFrom(...Object.values(DEMO_SUBJECTS).map((s) => s.id), "91310110666007217X", "110105194902301234"), anyString);
/** Enum values: the known ones, unknown positives, negatives (10-byte varints) and the int32 extremes. */
const enumValue = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }));

const consentArb = fc.record({
  grant: fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.record({ subject: subjectId, purpose: enumValue, categories: fc.array(fc.constantFrom(...CATEGORIES), { maxLength: 4 }), expiresInMs: fc.integer({ min: -86_400_000, max: 86_400_000 }) }).map((g) =>
      toBinary(
        ConsentGrantSchema,
        create(ConsentGrantSchema, {
          consentId: "fuzz",
          subject: { type: 2, id: g.subject },
          purpose: g.purpose,
          categories: g.categories,
          grantedAt: timestampFromDate(new Date(Date.now() - 60_000)),
          expiresAt: timestampFromDate(new Date(Date.now() + g.expiresInMs)),
          requesterAgency: "pbccrc",
        }),
      ),
    ),
  ),
  signature: fc.uint8Array({ maxLength: 512 }),
  algorithm: fc.oneof(fc.constantFrom("RSA-PSS-SHA256", "RSA-SHA256", ""), anyString),
});

const queryRequestArb: fc.Arbitrary<QueryRequest> = fc
  .record(
    {
      subject: fc.record({ type: enumValue, id: subjectId }),
      categories: fc.oneof(fc.array(fc.oneof(fc.constantFrom(...CATEGORIES), anyString), { maxLength: 40 }), fc.array(fc.constantFrom(...CATEGORIES), { minLength: 1, maxLength: 3 })),
      purpose: enumValue,
      consent: consentArb,
      requestId: anyString,
      specialGrantId: anyString,
      operator: anyString,
      statutoryExemption: fc.oneof(fc.constant("court_enforcement"), anyString),
    },
    { requiredKeys: [] },
  )
  .map((init) => create(QueryRequestSchema, init));

/** Bytes that are not protobuf at all, or valid requests damaged: flipped bytes, cut short, with trailing garbage. */
const damagedBytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 2_000 }).map((b) => Buffer.from(b)),
  fc.tuple(queryRequestArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([request, flips]) => {
    const bytes = Buffer.from(toBinary(QueryRequestSchema, request));
    for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
    return bytes;
  }),
  fc.tuple(queryRequestArb, fc.nat()).map(([request, cut]) => {
    const bytes = Buffer.from(toBinary(QueryRequestSchema, request));
    return bytes.subarray(0, bytes.length === 0 ? 0 : cut % bytes.length);
  }),
);

async function auditCount(): Promise<number> {
  return (await auditEvents(fed)).length;
}

describe("adversarial/protocol: fuzzing every request message", () => {
  it("Query: any QueryRequest gets an answer or a catalogued refusal, and every call is audited once", async () => {
    const before = await auditCount();
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(queryRequestArb, async (request) => {
        calls++;
        expectCatalogued(await query(Buffer.from(toBinary(QueryRequestSchema, request))));
      }),
      FC_PARAMS,
    );
    expect((await auditCount()) - before).toBe(calls);
    await expectStillServing(fed);
  });

  it("QueryStream: any QueryStreamRequest (any uint32 batch size) gets batches or a catalogued refusal", async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(queryRequestArb, { nil: undefined }), fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 4_294_967_295 })), async (query, batchSize) => {
        expectCatalogued(await queryStream(Buffer.from(toBinary(QueryStreamRequestSchema, create(QueryStreamRequestSchema, { query, batchSize })))));
      }),
      FC_PARAMS,
    );
    await expectStillServing(fed);
  });

  it("garbage and damaged bytes on both methods: a catalogued refusal (REQUEST_MALFORMED or a validation reason), never INTERNAL", async () => {
    const before = await auditCount();
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(damagedBytesArb, fc.boolean(), async (bytes, stream) => {
        calls++;
        expectCatalogued(await (stream ? queryStream(bytes) : query(bytes)));
      }),
      FC_PARAMS,
    );
    expect((await auditCount()) - before).toBe(calls);
    await expectStillServing(fed);
  });

  const INVALID_UTF8 = [
    [0xff],
    [0xc3, 0x28], // a lead byte followed by a non-continuation byte
    [0xc0, 0xaf], // overlong "/"
    [0xed, 0xa0, 0x80], // an encoded UTF-16 surrogate
    [0xf8, 0x88, 0x80, 0x80, 0x80], // a 5-byte form
  ];
  it.each([
    ["request_id", 5],
    ["categories", 2],
    ["special_grant_id", 6],
  ])("invalid UTF-8 in %s → INVALID_ARGUMENT REQUEST_MALFORMED (proto3 strings must be UTF-8)", async (_field, fieldNumber) => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...INVALID_UTF8), fc.string({ unit: "grapheme-ascii", maxLength: 10 }), async (bad, prefix) => {
        const value = Buffer.concat([Buffer.from(prefix), Buffer.from(bad)]);
        const valid = toBinary(QueryRequestSchema, create(QueryRequestSchema, { subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: 3 }));
        const bytes = Buffer.concat([Buffer.from(valid), Buffer.from([(fieldNumber << 3) | 2, value.length]), value]);
        expect(await query(bytes)).toEqual({ ok: false, code: status.INVALID_ARGUMENT, reason: "REQUEST_MALFORMED" });
      }),
      { ...FC_PARAMS, numRuns: 10 },
    );
    await expectStillServing(fed);
  });

  it("deep nesting (unknown groups 10,000 deep) → INVALID_ARGUMENT REQUEST_MALFORMED, no stack overflow", async () => {
    const depth = 10_000;
    const startGroup = (15 << 3) | 3;
    const endGroup = (15 << 3) | 4;
    const bytes = Buffer.concat([Buffer.alloc(depth, startGroup), Buffer.alloc(depth, endGroup)]);
    expect(await query(bytes)).toEqual({ ok: false, code: status.INVALID_ARGUMENT, reason: "REQUEST_MALFORMED" });
    await expectStillServing(fed);
  });

  it("unknown enum values → INVALID_ARGUMENT PURPOSE_UNKNOWN / SUBJECT_TYPE_INVALID", async () => {
    const base = { subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: 3 };
    expect(await query(Buffer.from(toBinary(QueryRequestSchema, create(QueryRequestSchema, { ...base, purpose: 999 as Purpose }))))).toEqual({
      ok: false,
      code: status.INVALID_ARGUMENT,
      reason: "PURPOSE_UNKNOWN",
    });
    expect(await query(Buffer.from(toBinary(QueryRequestSchema, create(QueryRequestSchema, { ...base, subject: { type: -7 as SubjectType, id: base.subject.id } }))))).toEqual({
      ok: false,
      code: status.INVALID_ARGUMENT,
      reason: "SUBJECT_TYPE_INVALID",
    });
  });

  it("a forged consent signature → PERMISSION_DENIED CONSENT_SIGNATURE_INVALID", async () => {
    const consent = signConsent(
      { consentId: "c-1", subject: DEMO_SUBJECTS.borrower, purpose: 1, categories: ["income"], grantedAt: timestampFromDate(new Date(Date.now() - 1_000)), expiresAt: timestampFromDate(new Date(Date.now() + 60_000)), requesterAgency: "pbccrc" },
      pbccrcKey,
    );
    consent.signature[10] = consent.signature[10]! ^ 0xff;
    const bytes = Buffer.from(toBinary(QueryRequestSchema, create(QueryRequestSchema, { subject: DEMO_SUBJECTS.borrower, categories: ["income"], purpose: 1, consent, operator: "teller-1" })));
    expect(await query(bytes)).toEqual({ ok: false, code: status.PERMISSION_DENIED, reason: "CONSENT_SIGNATURE_INVALID" });
  });
});

describe("adversarial/protocol: sizes", () => {
  it("huge repeated field under the byte limit (10,000 categories) → INVALID_ARGUMENT TOO_MANY_CATEGORIES", async () => {
    const request = create(QueryRequestSchema, { subject: DEMO_SUBJECTS.tradingCompany, categories: Array.from({ length: 10_000 }, (_, i) => `c${i % 10}`), purpose: 3 });
    expect(await query(Buffer.from(toBinary(QueryRequestSchema, request)))).toEqual({ ok: false, code: status.INVALID_ARGUMENT, reason: "TOO_MANY_CATEGORIES" });
    await expectStillServing(fed);
  });

  it("above limits.maxRequestBytes (64 KiB) → RESOURCE_EXHAUSTED REQUEST_TOO_LARGE, audited", async () => {
    const request = create(QueryRequestSchema, { subject: DEMO_SUBJECTS.tradingCompany, categories: Array.from({ length: 100_000 }, () => "administrative_penalty"), purpose: 3 });
    const bytes = Buffer.from(toBinary(QueryRequestSchema, request));
    expect(bytes.length).toBeGreaterThan(fed.gateway.config.limits.maxRequestBytes);
    expect(bytes.length).toBeLessThan(fed.gateway.config.limits.maxTransportMessageBytes);
    const before = await auditCount();
    expect(await query(bytes)).toEqual({ ok: false, code: status.RESOURCE_EXHAUSTED, reason: "REQUEST_TOO_LARGE" });
    expect((await auditCount()) - before).toBe(1);
    await expectStillServing(fed);
  });

  it("above limits.maxTransportMessageBytes (4 MiB) → RESOURCE_EXHAUSTED from the transport, before any handler (not audited)", async () => {
    const bytes = Buffer.alloc(fed.gateway.config.limits.maxTransportMessageBytes + 1024, 0x41);
    const before = await auditCount();
    const failure = await failureOf(client.call(QUERY_PATH, bytes));
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(failure.reason).toBe("");
    expect(failure.message).toMatch(/larger than max/);
    expect((await auditCount()) - before).toBe(0);
    await expectStillServing(fed);
  });
});

describe("adversarial/protocol: methods and framing", () => {
  let session: ClientHttp2Session;
  beforeAll(async () => {
    session = await connectRawHttp2(fed.gateway.address, agencyTls(fed, "pbccrc"));
  });
  afterAll(() => session?.close());

  it.each(["/credex.v1.CreditExchange/DeleteEverything", "/credex.v1.AdminService/Shutdown", "/nonsense", "/credex.v1.CreditProvider/Fetch"])(
    "unknown method %s → UNIMPLEMENTED",
    async (path) => {
      const failure = await failureOf(client.call(path, Buffer.alloc(0)));
      expect(failure.code).toBe(status.UNIMPLEMENTED);
      await expectStillServing(fed);
    },
  );

  it("wrong content-type (application/json) → HTTP 415, no gRPC handler runs", async () => {
    const reply = await rawRequest(session, QUERY_PATH, Buffer.from("{}"), { "content-type": "application/json" });
    expect(reply.status).toBe(415);
    expect(reply.grpcStatus).toBeUndefined();
    await expectStillServing(fed);
  });

  it.each([
    ["a frame declaring 100 bytes carrying 3", grpcFrame(Buffer.from([0x2a, 1, 0x41]), { declaredLength: 100 })],
    ["a 2-byte cut frame header", Buffer.from([0, 0])],
    ["an empty body", Buffer.alloc(0)],
  ])("truncated framing (%s) → grpc-status UNIMPLEMENTED 'Received no request message', no handler runs", async (_name, body) => {
    const before = await auditCount();
    const reply = await rawRequest(session, QUERY_PATH, body);
    expect(reply.status).toBe(200);
    expect(reply.grpcStatus).toBe(status.UNIMPLEMENTED);
    expect(reply.grpcMessage).toMatch(/Received no request message/);
    expect((await auditCount()) - before).toBe(0);
    await expectStillServing(fed);
  });

  it("two request messages on a unary method → grpc-status UNIMPLEMENTED, no handler runs", async () => {
    const frame = grpcFrame(Buffer.from([0x2a, 1, 0x41]));
    const reply = await rawRequest(session, QUERY_PATH, Buffer.concat([frame, frame]));
    expect(reply.grpcStatus).toBe(status.UNIMPLEMENTED);
    expect(reply.grpcMessage).toMatch(/second request message/);
  });

  it("a valid frame sent raw is answered with a catalogued reason (the raw client is a fair client)", async () => {
    const reply = await rawRequest(session, QUERY_PATH, grpcFrame(Buffer.from([0x2a, 1, 0x41])));
    expect(reply.grpcStatus).toBe(status.INVALID_ARGUMENT);
    expect(reply.headers["grpc-status-details-bin"] ?? reply.trailers["grpc-status-details-bin"]).toBeDefined();
  });
});
