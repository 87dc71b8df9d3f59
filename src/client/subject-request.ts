import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { SubjectRequestAttestationSchema, SubjectRequestSchema, type SubjectRequestAttestation } from "../gen/credex/v1/types_pb.js";
import { signAsAgency } from "./agency-signature.js";

/**
 * Signs a subject's request with the agency's certificate key, in the same
 * form as a consent attestation: the agency attests that the subject asked it
 * to act for them (for an objection: naming the record, Art. 25). The gateway
 * verifies the signature against the agency's client certificate.
 */
export function signSubjectRequest(request: MessageInitShape<typeof SubjectRequestSchema>, agencyKeyPem: string | Buffer): SubjectRequestAttestation {
  const bytes = toBinary(SubjectRequestSchema, create(SubjectRequestSchema, request));
  return create(SubjectRequestAttestationSchema, { request: bytes, ...signAsAgency(bytes, agencyKeyPem) });
}
