import { describe, expect, it } from "vitest";
import { AuditEventType, DecisionEffect } from "../../gen/credex/v1/audit_pb.js";
import { SubjectType } from "../../gen/credex/v1/types_pb.js";
import { CredexError } from "../errors.js";
import { memberCallEventOf, type MemberCallContext } from "./member-call-event.js";

const ctx = (extra: Partial<MemberCallContext> = {}): MemberCallContext => ({
  callId: "c1",
  traceId: "t1",
  gatewayInstance: "gw",
  method: "PublishListEntries",
  receivedAt: new Date("2026-01-01T00:00:00Z"),
  requestBytes: 10,
  attributes: { entries: "1" },
  subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" },
  ...extra,
});
const pseudonymize = (type: number, id: string) => `pseudo(${type}:${id.length})`;

describe("memberCallEventOf", () => {
  it("carries the subject only as its pseudonym", () => {
    const event = memberCallEventOf(AuditEventType.LIST, ctx({ decidedAt: new Date() }), pseudonymize);
    expect(event.subjectPseudonym).toBe("pseudo(1:18)");
    expect(JSON.stringify(event, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain("91310110666007217T");
    expect([event.type, event.decision?.effect, event.attributes["entries"]]).toEqual([AuditEventType.LIST, DecisionEffect.ALLOW, "1"]);
  });

  it.each([
    ["deny/policy", "LIST_NOT_PERMITTED", DecisionEffect.DENY],
    ["deny/not-owner", "LIST_NOT_OWNED", DecisionEffect.DENY],
    ["none/before-decision", "CLIENT_CERT_MISSING", DecisionEffect.NONE],
  ] as const)("%s", (_name, reason, effect) => {
    const event = memberCallEventOf(AuditEventType.OBJECTION, ctx({ error: new CredexError(reason) }), pseudonymize);
    expect([event.decision?.effect, event.statusReason]).toEqual([effect, reason]);
  });
});
