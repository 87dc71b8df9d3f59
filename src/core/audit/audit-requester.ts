import { create } from "@bufbuild/protobuf";
import { AuditRequesterSchema, type AuditRequester } from "../../gen/credex/v1/audit_pb.js";
import type { ClientCertificate } from "../client-certificate.js";
import type { Principal } from "../principal.js";

/** What every audited call knows of its caller, authenticated or not. */
export interface CallerFacts {
  readonly principal?: Principal | undefined;
  readonly certificate?: ClientCertificate | undefined;
  readonly peerAddress?: string | undefined;
  /** The agency a refused certificate claimed, when the principal is unknown. */
  readonly claimedAgency?: string | undefined;
}

/** The `requester` of an audit event: who called, with which certificate, from where. */
export function auditRequesterOf(caller: CallerFacts): AuditRequester {
  return create(AuditRequesterSchema, {
    agencyId: caller.principal?.agencyId ?? caller.claimedAgency ?? "",
    sector: caller.principal?.sector ?? "",
    certFingerprint: caller.certificate?.fingerprint ?? "",
    certSerial: caller.certificate?.serial ?? "",
    peerAddress: caller.peerAddress ?? "",
  });
}
