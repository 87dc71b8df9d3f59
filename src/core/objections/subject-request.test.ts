import { describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Purpose, SubjectRequestAttestationSchema, SubjectRequestKind, SubjectType } from "../../gen/credex/v1/types_pb.js";
import { signSubjectRequest } from "../../client/subject-request.js";
import { signConsent } from "../../client/consent.js";
import { checkSubjectRequest, type SubjectRequestExpectation } from "./subject-request.js";
import type { Principal } from "../principal.js";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = (k: typeof keys) => k.privateKey.export({ type: "pkcs8", format: "pem" });
const principal: Principal = { agencyId: "pbccrc", sector: "BANKING", uscc: "", certFingerprint: "", certSerial: "", publicKey: keys.publicKey };
const now = new Date("2026-11-26T00:00:00Z");
const firm = { type: SubjectType.LEGAL_PERSON, id: "91230184MA1BUFLT44" };
const expected: SubjectRequestExpectation = { kind: SubjectRequestKind.OBJECTION, subjectType: firm.type, subjectId: firm.id, ownerAgency: "sh-credit", recordId: "sh-D-0005", principal, now };

const request = (overrides: Record<string, unknown> = {}, signer = keys) =>
  signSubjectRequest(
    {
      kind: SubjectRequestKind.OBJECTION,
      requestId: "sr-1",
      subject: firm,
      ownerAgency: "sh-credit",
      recordId: "sh-D-0005",
      grantedAt: timestampFromDate(new Date("2026-11-01T00:00:00Z")),
      expiresAt: timestampFromDate(new Date("2026-12-01T00:00:00Z")),
      requesterAgency: "pbccrc",
      ...overrides,
    },
    pem(signer),
  );

describe("item 7: the subject's request gives standing to object only for what it names", () => {
  it("ok/a request of the presenting agency naming this subject and record, within its validity", () => {
    expect(checkSubjectRequest(request(), expected)).toMatchObject({ ok: true, requestId: "sr-1" });
  });

  it.each([
    ["fail/signed by another key", request({}, other), "SIGNATURE_INVALID"],
    ["fail/another record", request({ recordId: "sh-D-0006" }), "RECORD_MISMATCH"],
    ["fail/another owner", request({ ownerAgency: "csrc" }), "RECORD_MISMATCH"],
    ["fail/another subject", request({ subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" } }), "SUBJECT_MISMATCH"],
    ["fail/collected by another agency", request({ requesterAgency: "csrc" }), "REQUESTER_MISMATCH"],
    ["fail/another kind", request({ kind: SubjectRequestKind.UNSPECIFIED }), "KIND_MISMATCH"],
    ["fail/expired", request({ expiresAt: timestampFromDate(new Date("2026-11-25T00:00:00Z")) }), "EXPIRED"],
    ["fail/not yet valid", request({ grantedAt: timestampFromDate(new Date("2026-11-27T00:00:00Z")) }), "NOT_YET_VALID"],
    ["fail/no validity", request({ expiresAt: undefined }), "MALFORMED"],
    ["fail/unknown algorithm", create(SubjectRequestAttestationSchema, { ...request(), algorithm: "none" }), "ALGORITHM_UNSUPPORTED"],
    ["fail/bytes changed after signing", create(SubjectRequestAttestationSchema, { ...request(), request: Buffer.concat([request().request, Buffer.from([0x2a, 0x01, 0x58])]) }), "SIGNATURE_INVALID"],
  ])("%s", (_name, attestation, refusal) => {
    expect(checkSubjectRequest(attestation, expected)).toMatchObject({ ok: false, refusal });
  });

  it("fail/a consent attestation of the same agency is not a subject's request (no statement parses as another)", () => {
    const consent = signConsent(
      { consentId: "c-1", subject: firm, purpose: Purpose.LOAN_APPROVAL, categories: ["dishonest_debtor"], grantedAt: timestampFromDate(new Date("2026-11-01T00:00:00Z")), expiresAt: timestampFromDate(new Date("2026-12-01T00:00:00Z")), requesterAgency: "pbccrc" },
      pem(keys),
    );
    const asRequest = create(SubjectRequestAttestationSchema, { request: consent.grant, signature: consent.signature, algorithm: consent.algorithm });
    expect(checkSubjectRequest(asRequest, expected)).toMatchObject({ ok: false, refusal: "MALFORMED" });
  });
});
