import { Client, credentials, Metadata, status as GrpcStatus, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createSecureContext, type PeerCertificate } from "node:tls";
import { CreditProvider, FetchRequestSchema, FetchResponseSchema, type FetchResponse } from "../../gen/credex/v1/provider_pb.js";
import { ReceiveObjectionRequestSchema, ReceiveObjectionResponseSchema, type ReceiveObjectionRequest } from "../../gen/credex/v1/objections_pb.js";
import type { ObjectionDelivery } from "../../core/objections/objection-calls.js";
import { ProviderCallError, type ProviderClient, type ProviderQuery, type ProviderReply } from "../../core/stages/fetch.js";
import type { AgencyEntry } from "../../core/registry.js";
import { parseSubjectAltName } from "../../core/peer-certificate.js";
import { crlBuffersOf, type TlsMaterial } from "./server-credentials.js";

export interface ProviderClientOptions {
  readonly trustDomain: string;
  /** The gateway's client identity towards providers, and the CA bundle providers chain to. */
  readonly tls: () => TlsMaterial;
  readonly maxResponseBytes: number;
}

const FETCH_PATH = `/${CreditProvider.typeName}/${CreditProvider.method.fetch.name}`;
const RECEIVE_OBJECTION_PATH = `/${CreditProvider.typeName}/${CreditProvider.method.receiveObjection.name}`;

/**
 * CreditProvider client over mTLS. One channel per provider, reused across
 * exchanges (HTTP/2 multiplexing); recreated when the gateway's TLS material
 * changes. The provider's certificate must name it:
 * URI SAN spiffe://<trust-domain>/provider/<agency-id>.
 */
export function createGrpcProviderClient(options: ProviderClientOptions): ProviderClient & ObjectionDelivery & { close(): void } {
  const clients = new Map<string, { client: Client; material: TlsMaterial }>();

  function clientFor(agency: AgencyEntry): Client {
    const material = options.tls();
    const existing = clients.get(agency.id);
    if (existing && existing.material === material) return existing.client;
    existing?.client.close();
    const client = new Client(agency.providerEndpoint!, channelCredentials(material, `spiffe://${options.trustDomain}/provider/${agency.id}`), {
      "grpc.max_receive_message_length": options.maxResponseBytes,
      "grpc.keepalive_time_ms": 60_000,
      // A provider back from a crash is used again within seconds: grpc-js's default backoff grows to 120 s,
      // and every call in between would be answered UNAVAILABLE for that agency (chaos suite).
      "grpc.initial_reconnect_backoff_ms": 250,
      "grpc.max_reconnect_backoff_ms": 3_000,
      // Providers are on 127.0.0.1 with an IP SAN; the identity check is the spiffe URI below.
      "grpc.ssl_target_name_override": "localhost",
      "grpc.default_authority": "localhost",
    });
    clients.set(agency.id, { client, material });
    return client;
  }

  return {
    fetch(agency: AgencyEntry, query: ProviderQuery, deadline: Date): Promise<ProviderReply> {
      const request = create(FetchRequestSchema, {
        exchangeId: query.exchangeId,
        subject: { type: query.subjectType, id: query.subjectId },
        categories: [...query.categories],
        purpose: query.purpose,
        requesterAgency: query.requesterAgency,
        maxLevel: query.maxLevel,
      });
      return new Promise((resolve, reject) => {
        if (deadline.getTime() <= Date.now()) {
          reject(new ProviderCallError("DEADLINE_EXCEEDED", "no time left before the caller's deadline"));
          return;
        }
        let bytes = 0;
        const metadata = new Metadata();
        // W3C Trace Context over gRPC metadata: the provider's spans join the exchange's trace.
        if (query.traceparent) metadata.set("traceparent", query.traceparent);
        clientFor(agency).makeUnaryRequest(
          FETCH_PATH,
          (value: typeof request) => Buffer.from(toBinary(FetchRequestSchema, value)),
          (buffer: Buffer) => {
            bytes = buffer.length;
            return decodeFetchResponse(buffer);
          },
          request,
          metadata,
          { deadline },
          (err: ServiceError | null, response?: { records: ProviderReply["records"] }) => {
            if (err) reject(classify(err));
            else resolve({ records: response?.records ?? [], bytes });
          },
        );
      });
    },
    receiveObjection(agency: AgencyEntry, request: ReceiveObjectionRequest, deadline: Date): Promise<{ recordFound: boolean }> {
      return new Promise((resolve, reject) => {
        clientFor(agency).makeUnaryRequest(
          RECEIVE_OBJECTION_PATH,
          (value: ReceiveObjectionRequest) => Buffer.from(toBinary(ReceiveObjectionRequestSchema, value)),
          (buffer: Buffer) => fromBinary(ReceiveObjectionResponseSchema, buffer),
          request,
          new Metadata(),
          { deadline },
          (err: ServiceError | null, response?: { recordFound: boolean }) => {
            if (err) reject(classify(err));
            else resolve({ recordFound: response?.recordFound ?? false });
          },
        );
      });
    },
    close() {
      for (const { client } of clients.values()) client.close();
      clients.clear();
    },
  };
}

/**
 * A provider's answer, without the fields this gateway's schema does not know.
 * protobuf-es keeps unknown fields by default and writes them out again: a
 * record's unknown fields would reach the requester in the reply without the
 * release stage ever having judged them (a provider on a newer schema, or one
 * smuggling content past the level checks). Only known fields are released.
 */
export function decodeFetchResponse(bytes: Uint8Array): FetchResponse {
  return fromBinary(FetchResponseSchema, bytes, { readUnknownFields: false });
}

function classify(err: ServiceError): ProviderCallError {
  switch (err.code) {
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new ProviderCallError("DEADLINE_EXCEEDED", "the provider did not answer before the deadline");
    case GrpcStatus.UNAVAILABLE:
      return new ProviderCallError("UNAVAILABLE", "the provider is unreachable");
    default:
      return new ProviderCallError("ERROR", `the provider failed: ${GrpcStatus[err.code] ?? err.code}`);
  }
}

/**
 * mTLS channel credentials that also check the peer's spiffe identity (not only its chain): exactly
 * one URI SAN, the expected one (X.509-SVID §2). With CRLs in the material, OpenSSL checks every
 * certificate of the server's chain against them at the handshake and refuses a revoked one
 * (CERT_REVOKED): a client checks the gateway, and the gateway its providers, as servers check clients.
 */
export function channelCredentials(material: Pick<TlsMaterial, "ca" | "cert" | "key" | "crl">, expected: string): ChannelCredentials {
  const crl = crlBuffersOf(material);
  const context = createSecureContext({ ca: material.ca, cert: material.cert, key: material.key, minVersion: "TLSv1.2", ...(crl.length > 0 ? { crl } : {}) });
  return credentials.createFromSecureContext(context, {
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const uris = parseSubjectAltName(cert.subjectaltname).filter((n) => n.type === "URI").map((n) => n.value);
      return uris.length === 1 && uris[0] === expected ? undefined : new Error(`server certificate does not name exactly ${expected}`);
    },
  });
}
