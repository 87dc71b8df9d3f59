import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, AuditEventType, AuditRequesterSchema, type AuditEvent } from "../gen/credex/v1/audit_pb.js";

export interface AdminAuditInput {
  readonly gatewayInstance: string;
  /** The action, e.g. "SuspendAgency" (an officer) or "suspend-agency" (a playbook). */
  readonly action: string;
  /** "playbook:<name>" or the officer's admin identity "admin/<role>/<name>". */
  readonly actor: string;
  readonly certFingerprint?: string | undefined;
  readonly certSerial?: string | undefined;
  readonly peerAddress?: string | undefined;
  /** gRPC status and reason when the call was refused. */
  readonly statusCode?: number;
  readonly statusReason?: string;
  /** Value-free details: target agency, incident id, rate. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly at?: Date;
}

/**
 * The audit record of an administrative action, automatic or by an officer
 * (GB/T 22239-2019 level 3: audit of every user action, separate admins).
 */
export function adminAuditEvent(input: AdminAuditInput): AuditEvent {
  const at = timestampFromDate(input.at ?? new Date());
  return create(AuditEventSchema, {
    schemaVersion: 1,
    exchangeId: randomUUID(),
    gatewayInstance: input.gatewayInstance,
    type: AuditEventType.ADMIN,
    method: input.action,
    receivedAt: at,
    repliedAt: at,
    requester: create(AuditRequesterSchema, {
      agencyId: input.actor,
      certFingerprint: input.certFingerprint ?? "",
      certSerial: input.certSerial ?? "",
      peerAddress: input.peerAddress ?? "",
    }),
    statusCode: input.statusCode ?? 0,
    statusReason: input.statusReason ?? "",
    attributes: { actor: input.actor, ...input.attributes },
  });
}
