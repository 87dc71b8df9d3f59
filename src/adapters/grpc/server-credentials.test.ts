import { describe, expect, it } from "vitest";
import { DEFAULT_TLS12_CIPHERS, ReloadableServerCredentials, secureContextOptionsOf, type TlsMaterial, type TlsPolicy } from "./server-credentials.js";

// Placeholders: the options are assembled here, not parsed (the integration tests use real certificates).
const material = (tag: string): TlsMaterial => ({ cert: Buffer.from(`cert ${tag}`), key: Buffer.from(`key ${tag}`), ca: Buffer.from(`ca ${tag}`), crl: [Buffer.from(`crl ${tag}`)] });
const policies: Array<[string, TlsPolicy]> = [
  ["ok/TLS 1.3 only", { minVersion: "TLSv1.3", ciphers: DEFAULT_TLS12_CIPHERS }],
  ["ok/TLS 1.2 allowed", { minVersion: "TLSv1.2", ciphers: DEFAULT_TLS12_CIPHERS }],
];

describe("secure context options: the policy travels with the material", () => {
  it.each(policies)("%s: the first context and every reload carry minVersion, the suite list and the server's order", (_name, policy) => {
    const credentials = new ReloadableServerCredentials(material("a"), policy);
    const expected = { minVersion: policy.minVersion, ciphers: policy.ciphers, honorCipherOrder: true };
    expect(credentials._getSecureContextOptions()).toMatchObject({ ...expected, cert: material("a").cert });
    credentials.reload(material("b"));
    expect(credentials._getSecureContextOptions()).toEqual(secureContextOptionsOf(material("b"), policy));
    expect(credentials._getSecureContextOptions()).toMatchObject({ ...expected, cert: material("b").cert, crl: [Buffer.from("crl b")] });
    expect(credentials.current().cert.toString()).toBe("cert b");
  });

  it("ok/no CRL configured: no crl option", () => {
    const m = material("c");
    expect(secureContextOptionsOf({ cert: m.cert, key: m.key, ca: m.ca }, policies[0]![1])).not.toHaveProperty("crl");
  });
});
