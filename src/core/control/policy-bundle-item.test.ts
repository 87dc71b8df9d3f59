import { createPrivateKey, X509Certificate } from "node:crypto";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { createCa } from "../../adapters/pki/certificate-authority.js";
import { ControlItemError, controlItemKey, decodeControlItem, encodeControlItem, signControlItem, verifyControlItem } from "./control-item.js";
import { claimedPolicyRevision, policyBundleItem, policyBundleOf, policySequenceOf, type PolicyBundle } from "./policy-bundle-item.js";

let cert: X509Certificate;
let key: ReturnType<typeof createPrivateKey>;
let other: X509Certificate;

beforeAll(async () => {
  const ca = await createCa({ commonName: "policy operator", keyBits: 2048 });
  cert = new X509Certificate(ca.certPem);
  key = createPrivateKey(ca.keyPem);
  other = new X509Certificate((await createCa({ commonName: "policy operator", keyBits: 2048 })).certPem);
});

const bundle: PolicyBundle = {
  sequence: 7,
  revision: "2026-11-26.1",
  createdAt: new Date("2026-11-26T05:00:00Z"),
  operator: "ops-1",
  model: "[request_definition]\n",
  policy: "p, pbccrc, csrc, loan_overdue, query, 3, LOAN_APPROVAL, allow\n",
  categories: "categories: {}\n",
  tests: { "a.yaml": "agencies: []\ncases: []\n" },
};

const errorOf = (f: () => unknown): ControlItemError => {
  try {
    f();
  } catch (err) {
    return err as ControlItemError;
  }
  throw new Error("expected a ControlItemError");
};

describe("policy bundle items", () => {
  it("ok/round-trip: signed, encoded, decoded, verified, unpacked to the same bundle under the key of its sequence", () => {
    const item = signControlItem(policyBundleItem(bundle, new Date("2026-11-26T05:00:01Z")), cert, key);
    expect(controlItemKey(item)).toBe("policy-bundle/7");
    expect(policySequenceOf(item)).toBe(7);
    const received = decodeControlItem(encodeControlItem(item));
    expect(verifyControlItem(received, [cert]).fingerprint256).toBe(cert.fingerprint256);
    expect(policyBundleOf(received)).toEqual(bundle);
    expect(claimedPolicyRevision(received.payload)).toBe("2026-11-26.1");
  });

  it("fail/bad-signature: a policy line changed after signing", () => {
    const item = signControlItem(policyBundleItem(bundle), cert, key);
    const forged = { ...item, payload: policyBundleItem({ ...bundle, policy: "p, *, *, *, query, 4, *, allow\n" }).payload };
    const e = errorOf(() => verifyControlItem(decodeControlItem(encodeControlItem(forged)), [cert]));
    expect([e.reason, e.message]).toEqual(["BAD_SIGNATURE", "control item policy-bundle/7: the signature does not verify"]);
  });

  it("fail/unknown-signer: a certificate with the same name but another key", () => {
    const item = signControlItem(policyBundleItem(bundle), cert, key);
    expect(errorOf(() => verifyControlItem(item, [other])).reason).toBe("UNKNOWN_SIGNER");
  });

  it("fail/bad-payload: not gzip, version 1 (no sequence), a missing field, a bad revision, a payload of another sequence", () => {
    const base = policyBundleItem(bundle);
    const withDoc = (doc: unknown) => ({ ...base, signer: "", signature: new Uint8Array(), payload: gzipSync(JSON.stringify(doc)) });
    const fields = { createdAt: "2026-11-26T05:00:00Z", operator: "o", model: "m", categories: "c", tests: {} };
    const messages = [
      { ...base, signer: "", signature: new Uint8Array(), payload: Buffer.from("plain") },
      withDoc({ v: 1, revision: "r1", policy: "p", ...fields }),
      withDoc({ v: 2, sequence: 7, revision: "r1", ...fields }),
      withDoc({ v: 2, sequence: 7, revision: "r 1", policy: "p", ...fields }),
      withDoc({ v: 2, sequence: 8, revision: "r1", policy: "p", ...fields }),
    ].map((item) => {
      const e = errorOf(() => policyBundleOf(item));
      return `${e.reason}: ${e.message.replace(/ \(.*\)$/, "")}`;
    });
    expect(messages).toEqual([
      "BAD_PAYLOAD: the policy bundle is not gzip'd JSON",
      "BAD_PAYLOAD: unsupported policy bundle version 1",
      'BAD_PAYLOAD: the policy bundle has no string "policy"',
      'BAD_PAYLOAD: revision "r 1" has characters outside A-Z a-z 0-9 . _ : + -',
      "BAD_PAYLOAD: the policy bundle payload names sequence 8, the item id 7",
    ]);
  });

  it("fail/sequence: ids that are not a positive integer (version 1's \"active\", 0, leading zeros, beyond 2^53) are refused; so is a bundle numbered 0", () => {
    const messages = ["active", "0", "007", "9007199254740993"].map((id) => errorOf(() => policySequenceOf({ type: "policy-bundle", id })).message);
    expect(messages).toEqual(
      ["active", "0", "007", "9007199254740993"].map((id) => `policy bundle id "${id}" is not a sequence number (a bundle from before sequences; republish it with credex policy apply)`),
    );
    expect(() => policyBundleItem({ ...bundle, sequence: 0 })).toThrow("sequence 0 must be a positive integer");
  });

  it("fail/revision: a label with spaces is refused before signing", () => {
    expect(() => policyBundleItem({ ...bundle, revision: "new policy" })).toThrow('revision "new policy" must be 1-128 of A-Z a-z 0-9 . _ : + -');
  });
});
