/**
 * CRL replay (issue 16, "controls hold after reload and replay"): whoever can
 * write the CRL files must not bring a revoked certificate back by putting
 * back a CRL that is older but still fresh and correctly signed, or another
 * trusted CA's CRL in place of the issuing CA's. Real files, real mTLS on
 * 127.0.0.1; the gateway watches its files as in production. No control topic
 * here: the CRL files alone must hold.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExchangeClient } from "../src/client/exchange-client.js";
import { failureOf, startTestFederation } from "./support/federation.js";
import { credex, pause, PUBLIC_QUERY, replaceFile, until } from "./support/certificate-ops.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
const onCleanup: Array<() => void> = [];

beforeAll(async () => {
  fed = await startTestFederation();
}, 120_000);
afterAll(async () => {
  onCleanup.forEach((f) => f());
  await fed?.cleanup();
});

/**
 * A client of `agency` without CRL files of its own (a client given CRLs reconnects when they
 * change, which would hide whether an open connection is still checked).
 */
function clientOf(agency: string) {
  const member = fed.pki.agencies[agency]!;
  return createExchangeClient({ address: fed.gateway.address, trustDomain: fed.pki.trustDomain, certFile: member.client.cert, keyFile: member.client.key, caFile: fed.pki.caBundle });
}

/** A new connection for one call: a new handshake against the CRLs the gateway serves now. */
async function freshCall(agency: string): Promise<string> {
  const client = clientOf(agency);
  try {
    return (await client.query(PUBLIC_QUERY)).results.length > 0 ? "OK" : "EMPTY";
  } catch (err) {
    return (await failureOf(Promise.reject(err))).reason;
  } finally {
    client.close();
  }
}

/** Revokes `agency`'s client certificate with `credex pki revoke` and waits until the gateway's watcher has loaded the new CRL. */
async function revoke(agency: string): Promise<string> {
  const serial = fed.pki.agencies[agency]!.client.serial;
  const r = await credex("pki", "revoke", "--dir", fed.pki.dir, "--serial", serial, "--reason", "keyCompromise");
  expect(r.code, r.stderr).toBe(0);
  await until("the new CRL to be loaded", () => (fed.gateway.revocations.lookup(serial) ? true : undefined), 3_000);
  return serial;
}

describe("CRL replay: a CRL file put back or swapped is refused, the revocation holds", () => {
  it("CRL replay: the previous crl.pem copied back after `credex pki revoke` is refused; the agency stays refused (CLIENT_CERT_REVOKED) on a new connection and on its open one", async () => {
    const open = clientOf("nfra");
    onCleanup.push(() => open.close());
    expect((await open.query(PUBLIC_QUERY)).results.length).toBeGreaterThan(0);
    const previous = readFileSync(fed.pki.crl); // before the revocation: does not list nfra

    const serial = await revoke("nfra");
    // The open connection is left alone until after the attack: its next call meets the per-call check only.
    expect(await freshCall("nfra")).toBe("CLIENT_CERT_REVOKED");

    // The attack: the older CRL (signed, fresh, lower cRLNumber) over the new one.
    replaceFile(fed.pki.crl, previous);
    await pause(600); // the watcher's debounced reload (200 ms) runs and is refused
    expect(() => fed.gateway.reloadTls()).toThrow(/CRL replay: the CRL .*crl\.pem of .*credex issuing CA.* has cRLNumber 1, lower than 2 in use/);
    // The reference agencies watch the same files under the same rules.
    expect(() => fed.agencies.get("pbccrc")!.reloadTls()).toThrow(/CRL replay: .*lower than 2 in use/);

    expect(fed.gateway.revocations.lookup(serial)?.reason).toBe("keyCompromise");
    const onOpen = await failureOf(open.query(PUBLIC_QUERY));
    expect(onOpen).toMatchObject({ reason: "CLIENT_CERT_REVOKED", metadata: { revocation_reason: "keyCompromise" } });
    expect(await freshCall("nfra")).toBe("CLIENT_CERT_REVOKED");
    // Nobody else is affected.
    expect(await freshCall("pbccrc")).toBe("OK");
  }, 30_000);

  it("CRL replay: the root's CRL (another trusted CA) in place of the issuing CA's crl.pem is refused; the revoked agency stays refused", async () => {
    const serial = await revoke("safe");
    expect(await freshCall("safe")).toBe("CLIENT_CERT_REVOKED");

    replaceFile(fed.pki.crl, readFileSync(fed.pki.rootCrl));
    await pause(600);
    expect(() => fed.gateway.reloadTls()).toThrow(/CRL replay: no CRL of .*credex issuing CA.* any more \(the one in use came from .*crl\.pem, cRLNumber 3\) while its CA stays in the bundle/);

    expect(fed.gateway.revocations.lookup(serial)?.reason).toBe("keyCompromise");
    expect(await freshCall("safe")).toBe("CLIENT_CERT_REVOKED");
    expect(await freshCall("nfra")).toBe("CLIENT_CERT_REVOKED");
    expect(await freshCall("pbccrc")).toBe("OK");
  }, 30_000);
});
