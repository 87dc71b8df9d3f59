import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ConsentAttestationSchema, ConsentGrantSchema, type ConsentAttestation } from "../gen/credex/v1/types_pb.js";
import { signAsAgency } from "./agency-signature.js";

/**
 * Signs a consent grant with the requesting agency's certificate key: the
 * agency attests that it holds the subject's consent (Art. 13) for this
 * purpose and these categories. The gateway verifies the signature against
 * the agency's client certificate.
 */
export function signConsent(grant: MessageInitShape<typeof ConsentGrantSchema>, agencyKeyPem: string | Buffer): ConsentAttestation {
  const bytes = toBinary(ConsentGrantSchema, create(ConsentGrantSchema, grant));
  return create(ConsentAttestationSchema, { grant: bytes, ...signAsAgency(bytes, agencyKeyPem) });
}
