/**
 * FOR TESTS ONLY: a CreditProvider that misbehaves on purpose, served over
 * the same mTLS as a reference agency, so the chaos suite can show what the
 * gateway does when a provider hangs, crashes mid-call, returns garbage, or
 * answers slowly.
 */
import { randomBytes } from "node:crypto";
import { Server, type ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromDate, timestampNow } from "@bufbuild/protobuf/wkt";
import { CreditProvider, FetchResponseSchema, type FetchRequest, type FetchResponse } from "../../src/gen/credex/v1/provider_pb.js";
import { CreditRecordSchema, Level, Polarity, RecordFieldSchema } from "../../src/gen/credex/v1/types_pb.js";
import { serviceDefinitionOf } from "../../src/adapters/grpc/service-definition.js";
import { sessionOfCall } from "../../src/adapters/grpc/http2-session-guard.js";
import { ReloadableServerCredentials, DEFAULT_TLS12_CIPHERS } from "../../src/adapters/grpc/server-credentials.js";
import { readTlsMaterial, type TlsFiles } from "../../src/gateway/tls-files.js";

export type ProviderFault =
  /** accepts the call and never answers */
  | "hang"
  /** drops the connection (TCP reset) while the call is in progress, as a crashing process would */
  | "crash-mid-call"
  /** answers with bytes that are not a FetchResponse */
  | "garbage"
  /** answers correctly (no records) after delayMs */
  | "slow"
  /**
   * answers one well-formed record for the asked subject and category, carrying fields this
   * schema does not know (in the record and in its field): content no release check judged
   */
  | "unknown-fields"
  /**
   * answers, for each asked category, one record of its own about the asked subject labelled
   * level 1 (PUBLIC), positive, ended six years ago, with one level-1 field: the labels a
   * provider would give to pass a sensitive record, or an expired negative one, off as public
   */
  | "mislabel"
  /**
   * answers one record of the asked category about the asked subject, correctly labelled and
   * ended a month ago, whose fields are `fieldNames` (each valued "<name>-value"): names a
   * provider would use to pass prohibited data (Art. 14.1) or data the catalogue does not list
   */
  | "field-names"
  /**
   * answers, for each asked category, one record of its own about the asked subject labelled
   * level 1, positive, with neither ended_at nor ongoing, with `fieldNames` as fields: a negative
   * record whose Art. 16 term cannot be computed, passed off as positive
   */
  | "unended";

/** The text hidden in the "unknown-fields" answer, to look for in what the gateway releases. */
export const SMUGGLED_TEXT = "smuggled-past-the-release-stage";

export interface FaultProvider {
  readonly address: string;
  /** Calls received. */
  calls(): number;
  /** The bytes of the last answer sent. */
  lastAnswer(): Buffer | undefined;
  stop(): Promise<void>;
}

function recordWithUnknownFields(request: FetchRequest): FetchResponse {
  // An unknown length-delimited field (number 4242) as protobuf-es keeps it: tag, then length-prefixed bytes.
  const unknown = [{ no: 4242, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(Buffer.from(SMUGGLED_TEXT)).finish() }];
  // "violation": a field the catalogue lists for forex_violation, the category the tests ask.
  const field = create(RecordFieldSchema, { name: "violation", value: "a public summary", level: Level.PUBLIC });
  field.$unknown = unknown;
  const record = create(CreditRecordSchema, {
    recordId: "unknown-fields-1",
    ownerAgency: request.requesterAgency === "safe" ? "other" : "safe",
    subject: request.subject,
    category: request.categories[0] ?? "",
    polarity: Polarity.NEGATIVE,
    level: Level.PUBLIC,
    occurredAt: timestampNow(),
    endedAt: timestampNow(),
    fields: [field],
  });
  record.$unknown = unknown;
  return create(FetchResponseSchema, { records: [record] });
}

function mislabelledRecords(request: FetchRequest, agencyId: string): FetchResponse {
  const sixYearsAgo = new Date(Date.now() - 6 * 365.25 * 86_400_000);
  return create(FetchResponseSchema, {
    records: request.categories.map((category, i) =>
      create(CreditRecordSchema, {
        recordId: `mislabel-${category}-${i}`,
        ownerAgency: agencyId,
        subject: request.subject,
        category,
        polarity: Polarity.POSITIVE,
        level: Level.PUBLIC,
        occurredAt: timestampFromDate(new Date(sixYearsAgo.getTime() - 86_400_000)),
        endedAt: timestampFromDate(sixYearsAgo),
        fields: [create(RecordFieldSchema, { name: "detail", value: `mislabelled ${category}`, level: Level.PUBLIC })],
      }),
    ),
  });
}

function recordWithFieldNames(request: FetchRequest, agencyId: string, fieldNames: readonly string[]): FetchResponse {
  const monthAgo = new Date(Date.now() - 30 * 86_400_000);
  return create(FetchResponseSchema, {
    records: [
      create(CreditRecordSchema, {
        recordId: "field-names-1",
        ownerAgency: agencyId,
        subject: request.subject,
        category: request.categories[0] ?? "",
        polarity: Polarity.NEGATIVE,
        level: Level.RESTRICTED,
        occurredAt: timestampFromDate(monthAgo),
        endedAt: timestampFromDate(monthAgo),
        fields: fieldNames.map((name) => create(RecordFieldSchema, { name, value: `${name}-value`, level: Level.RESTRICTED })),
      }),
    ],
  });
}

function unendedRecords(request: FetchRequest, agencyId: string, fieldNames: readonly string[]): FetchResponse {
  return create(FetchResponseSchema, {
    records: request.categories.map((category, i) =>
      create(CreditRecordSchema, {
        recordId: `unended-${category}-${i}`,
        ownerAgency: agencyId,
        subject: request.subject,
        category,
        polarity: Polarity.POSITIVE,
        level: Level.PUBLIC,
        occurredAt: timestampNow(),
        fields: fieldNames.map((name) => create(RecordFieldSchema, { name, value: `${name}-value`, level: Level.PUBLIC })),
      }),
    ),
  });
}

/**
 * Sends `probe` until the gateway has called the provider (it reconnects to a provider's address
 * with a bounded backoff, provider-client.ts); fails after `boundMs`. Resolves to the last probe's answer.
 */
export async function untilCalled<T>(provider: FaultProvider, probe: () => Promise<T>, boundMs: number): Promise<T> {
  const started = Date.now();
  for (;;) {
    if (Date.now() - started > boundMs) throw new Error(`the gateway did not call the provider within ${boundMs} ms`);
    const answer = await probe();
    if (provider.calls() > 0) return answer;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startFaultProvider(options: {
  listen: string;
  tls: TlsFiles;
  fault: ProviderFault;
  delayMs?: number;
  /** the agency it stands in for (default "safe") */
  agencyId?: string;
  /** the fields of the "field-names" and "unended" answers */
  fieldNames?: readonly string[];
}): Promise<FaultProvider> {
  const server = new Server();
  const definition = serviceDefinitionOf(CreditProvider);
  let calls = 0;
  const garbage = options.fault === "garbage";
  // Garbage goes through the serializer: bytes a protobuf parser must reject (a length-delimited field running past the end).
  let lastAnswer: Buffer | undefined;
  const serialize = (value: unknown): Buffer => {
    if (garbage) return Buffer.concat([Buffer.from([0x0a, 0xff, 0x01]), randomBytes(16)]);
    // The shared definition never writes unknown fields; this provider means to.
    if (options.fault === "unknown-fields") return Buffer.from(toBinary(FetchResponseSchema, value as FetchResponse));
    return definition["fetch"]!.responseSerialize(value);
  };
  const fetchDefinition = { ...definition["fetch"]!, responseSerialize: (value: unknown) => (lastAnswer = serialize(value)) };
  server.addService({ fetch: fetchDefinition }, {
    fetch(call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
      calls++;
      const empty = create(FetchResponseSchema, { records: [] });
      switch (options.fault) {
        case "hang":
          return;
        case "crash-mid-call":
          // destroy() without a code: the socket closes with no GOAWAY, as when the process dies.
          setTimeout(() => sessionOfCall(call)?.destroy(), 50);
          return;
        case "garbage":
          callback(null, empty);
          return;
        case "slow":
          setTimeout(() => callback(null, empty), options.delayMs ?? 500);
          return;
        case "unknown-fields":
          callback(null, recordWithUnknownFields(call.request as FetchRequest));
          return;
        case "mislabel":
          callback(null, mislabelledRecords(call.request as FetchRequest, options.agencyId ?? "safe"));
          return;
        case "unended":
          callback(null, unendedRecords(call.request as FetchRequest, options.agencyId ?? "safe", options.fieldNames ?? []));
          return;
        case "field-names":
          callback(null, recordWithFieldNames(call.request as FetchRequest, options.agencyId ?? "safe", options.fieldNames ?? []));
          return;
      }
    },
  } as never);
  const credentials = new ReloadableServerCredentials(readTlsMaterial(options.tls), { minVersion: "TLSv1.3", ciphers: DEFAULT_TLS12_CIPHERS });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(options.listen, credentials as ServerCredentials, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    address: `127.0.0.1:${port}`,
    calls: () => calls,
    lastAnswer: () => lastAnswer,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
