import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyRing, loadKeyRing, parseKeyRing, rotateKeyRing, serializeKeyRing } from "./key-ring.js";

const k32 = Buffer.alloc(32, 1).toString("base64");
const ring = (o: object) => JSON.stringify(o);

describe("parseKeyRing", () => {
  it("ok/round-trips a generated ring", () => {
    const r = generateKeyRing("k1");
    const back = parseKeyRing(serializeKeyRing(r));
    expect(back.activeKeyId).toBe("k1");
    expect(back.key("k1").equals(r.key("k1"))).toBe(true);
    expect(back.pseudonymKey.equals(r.pseudonymKey)).toBe(true);
  });
  it.each([
    ["fail/not-json", "{", "key ring: not valid JSON"],
    ["fail/array", "[]", "key ring: must be a JSON object"],
    ["fail/unknown-field", ring({ active: "a", keys: { a: k32 }, pseudonymKey: k32, extra: 1 }), 'key ring: unknown field "extra"'],
    ["fail/no-active", ring({ keys: { a: k32 }, pseudonymKey: k32 }), 'key ring: "active" must name a key id'],
    ["fail/active-missing", ring({ active: "b", keys: { a: k32 }, pseudonymKey: k32 }), 'key ring: active key "b" is not in "keys"'],
    ["fail/empty-keys", ring({ active: "a", keys: {}, pseudonymKey: k32 }), 'key ring: "keys" is empty'],
    ["fail/short-key", ring({ active: "a", keys: { a: Buffer.alloc(16).toString("base64") }, pseudonymKey: k32 }), 'key ring: keys["a"] is 16 bytes, expected 32'],
    ["fail/bad-base64", ring({ active: "a", keys: { a: "***" }, pseudonymKey: k32 }), 'key ring: keys["a"] is not valid base64'],
    ["fail/bad-id", ring({ active: "a b", keys: { "a b": k32 }, pseudonymKey: k32 }), 'key ring: key id "a b" must be 1-64 characters of [A-Za-z0-9._-]'],
    ["fail/short-pseudonym-key", ring({ active: "a", keys: { a: k32 }, pseudonymKey: "AAAA" }), 'key ring: "pseudonymKey" is 3 bytes, expected at least 32'],
  ])("%s", (_name, text, message) => {
    expect(() => parseKeyRing(text)).toThrow(message);
  });
});

describe("rotateKeyRing", () => {
  it("ok/new active key, old keys kept, pseudonym key unchanged", () => {
    const r1 = generateKeyRing("k1");
    const r2 = rotateKeyRing(r1, "k2");
    expect(r2.activeKeyId).toBe("k2");
    expect(r2.key("k1").equals(r1.key("k1"))).toBe(true);
    expect(r2.pseudonymKey.equals(r1.pseudonymKey)).toBe(true);
  });
  it("fail/duplicate id", () => {
    expect(() => rotateKeyRing(generateKeyRing("k1"), "k1")).toThrow('key id "k1" is already in the ring');
  });
  it("fail/unknown key lookup names the ring's keys", () => {
    expect(() => generateKeyRing("k1").key("zz")).toThrow('the key ring has no key "zz" (ring holds: k1)');
  });
});

describe("loadKeyRing", () => {
  it("ok/0600 file loads; fail/group-readable file is refused; fail/missing file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-ring-"));
    try {
      const path = join(dir, "keys.json");
      writeFileSync(path, serializeKeyRing(generateKeyRing("k7")), { mode: 0o600 });
      expect((await loadKeyRing(path)).activeKeyId).toBe("k7");
      const open = join(dir, "open.json");
      writeFileSync(open, serializeKeyRing(generateKeyRing()), { mode: 0o644 });
      await expect(loadKeyRing(open)).rejects.toThrow(`key ring ${open}: permissions 0644 are too open (it holds secret keys): chmod 600 ${open}`);
      await expect(loadKeyRing(join(dir, "none.json"))).rejects.toThrow(`key ring ${join(dir, "none.json")}: cannot be read (ENOENT)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
