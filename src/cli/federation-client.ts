import { readFileSync } from "node:fs";
import { join } from "node:path";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { SubjectType } from "../gen/credex/v1/types_pb.js";
import { createExchangeClient, type ExchangeClient } from "../client/exchange-client.js";
import { errorInfoOf } from "../adapters/grpc/rich-status.js";
import type { FederationManifest } from "../demo/federation.js";
import { readCertificateOption, requireOption, UsageError } from "./command.js";

export const SUBJECT_TYPES: Record<string, SubjectType> = { legal: SubjectType.LEGAL_PERSON, natural: SubjectType.NATURAL_PERSON, org: SubjectType.OTHER_ORG };

/** The federation manifest of <dir> (`credex demo --keep --dir <dir>`) and one agency's entry in it. */
export function readFederationAgency(dir: string, agencyId: string): { manifest: FederationManifest; agency: FederationManifest["agencies"][number] } {
  let manifest: FederationManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, "federation.json"), "utf8")) as FederationManifest;
  } catch (err) {
    throw new UsageError(`cannot read ${join(dir, "federation.json")} (start one with: credex demo --keep --dir ${dir}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const agency = manifest.agencies.find((a) => a.id === agencyId);
  if (!agency) throw new UsageError(`no agency "${agencyId}" in ${dir}/federation.json (agencies: ${manifest.agencies.map((a) => a.id).join(", ")})`);
  return { manifest, agency };
}

/** A CreditExchange client holding `agencyId`'s certificate from <dir>/federation.json. */
export function federationClient(dir: string, agencyId: string): ExchangeClient {
  const { manifest, agency } = readFederationAgency(dir, agencyId);
  // The gateway's certificate is checked against the federation's CRLs (manifests written before they were listed have none).
  return createExchangeClient({ address: manifest.gateway, trustDomain: manifest.trustDomain, certFile: agency.cert, keyFile: agency.key, caFile: manifest.ca, ...(manifest.crl ? { crlFiles: manifest.crl } : {}) });
}

/** Where a CLI command reaches a gateway as an agency: a demo directory, or the agency's own files. */
export interface AgencyConnectionOptions {
  readonly dir?: string | undefined;
  readonly as?: string | undefined;
  readonly gateway?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly ca?: string | undefined;
  readonly crl?: readonly string[] | undefined;
  readonly "trust-domain"?: string | undefined;
}

export const AGENCY_CONNECTION_HELP = `  --dir <dir> --as <agency>   a demo federation (credex demo --keep --dir <dir>) and the agency
                              whose certificate, from <dir>/federation.json, makes the call
  --gateway <host:port> --as <agency> --cert <pem> --key <pem> --ca <pem> [--crl <pem>]...
          [--trust-domain <td>] any gateway, with the agency's own certificate and key, the CA
                              bundle the gateway's certificate chains to, and its CRLs`;

export const AGENCY_CONNECTION_OPTIONS = {
  dir: { type: "string" },
  as: { type: "string" },
  gateway: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  ca: { type: "string" },
  crl: { type: "string", multiple: true },
  "trust-domain": { type: "string" },
} as const;

/** A client as agency `as`, with the file of its private key (consents are signed with it). */
export function agencyConnection(v: AgencyConnectionOptions): { client: ExchangeClient; agencyId: string; keyFile: string } {
  const agencyId = requireOption(v.as, "as");
  if ((v.dir === undefined) === (v.gateway === undefined)) throw new UsageError("give either --dir (a demo federation) or --gateway with --cert, --key and --ca");
  if (v.dir !== undefined) return { client: federationClient(v.dir, agencyId), agencyId, keyFile: readFederationAgency(v.dir, agencyId).agency.key };
  const certFile = requireOption(v.cert, "cert");
  const keyFile = requireOption(v.key, "key");
  const caFile = requireOption(v.ca, "ca");
  readCertificateOption("cert", certFile);
  readCertificateOption("ca", caFile);
  const client = createExchangeClient({ address: v.gateway!, trustDomain: v["trust-domain"] ?? "credex.example", certFile, keyFile, caFile, ...(v.crl && v.crl.length > 0 ? { crlFiles: [...v.crl] } : {}) });
  return { client, agencyId, keyFile };
}

export function subjectTypeOf(name: string | undefined): SubjectType {
  const type = SUBJECT_TYPES[name ?? "legal"];
  if (type === undefined) throw new UsageError("--subject-type must be legal, natural or org");
  return type;
}

/** Prints a refused call (gRPC status, ErrorInfo reason, message); returns exit code 1. */
export function reportRefusal(err: unknown, json: boolean | undefined): number {
  const e = err as ServiceError;
  if (typeof e?.code !== "number") throw err;
  const info = errorInfoOf(e);
  const out = { code: GrpcStatus[e.code] ?? e.code, reason: info?.reason ?? "", message: e.details, metadata: info?.metadata ?? {} };
  if (json) process.stdout.write(`${JSON.stringify({ error: out }, null, 2)}\n`);
  else process.stderr.write(`refused: ${out.code} ${out.reason}: ${out.message}\n`);
  return 1;
}
