import { describe, expect, it } from "vitest";
import { makeSigningIdentity } from "../../../test/support/audit-fixtures.js";
import { createCheckpoint, createCheckpointSigner, decodeCheckpoint, encodeCheckpoint, verifyCheckpoint } from "./checkpoint.js";

describe.each(["rsa", "ec"] as const)("checkpoint (%s)", (type) => {
  const id = makeSigningIdentity(type);
  const signer = createCheckpointSigner(id);
  const head = { instance: "gw-1", sequence: 42n, headHash: new Uint8Array(32).fill(9) };

  it("ok/signs and verifies with the certificate", () => {
    const cp = decodeCheckpoint(encodeCheckpoint(createCheckpoint(head, signer)));
    expect(cp.signatureAlgorithm).toBe(type === "rsa" ? "RSA-PSS-SHA256" : "ECDSA-SHA256");
    expect(cp.sequence).toBe(42n);
    expect(verifyCheckpoint(cp, id.certificatePem)).toBe(true);
  });
  it("fail/altered sequence", () => {
    const cp = createCheckpoint(head, signer);
    cp.sequence = 41n;
    expect(verifyCheckpoint(cp, id.certificatePem)).toBe(false);
  });
  it("fail/altered head hash", () => {
    const cp = createCheckpoint(head, signer);
    cp.headHash = new Uint8Array(32);
    expect(verifyCheckpoint(cp, id.certificatePem)).toBe(false);
  });
  it("fail/another certificate", () => {
    const cp = createCheckpoint(head, signer);
    expect(verifyCheckpoint(cp, makeSigningIdentity(type).certificatePem)).toBe(false);
  });
});

it("fail/key does not match certificate", () => {
  const a = makeSigningIdentity();
  const b = makeSigningIdentity();
  expect(() => createCheckpointSigner({ privateKeyPem: a.privateKeyPem, certificatePem: b.certificatePem })).toThrow("the checkpoint signing key does not match its certificate");
});
