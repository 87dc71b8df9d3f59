import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AdminTotpVerifier, enrolAdminTotp, readAdminTotpEnrolments } from "./admin-totp.js";
import { totpCode } from "../adapters/totp/totp.js";
import { CredexError } from "../core/errors.js";
import type { AdminPrincipal } from "../core/admin-principal.js";

const FP = "ab".repeat(32);
const principal: AdminPrincipal = { role: "security", name: "alice", id: "admin/security/alice", certFingerprint: FP, certSerial: "01" };
const T = new Date("2026-12-02T12:00:10Z");

function setup(required = false) {
  const dir = mkdtempSync(join(tmpdir(), "credex-totp-"));
  const options = { required, enrolments: join(dir, "admin", "totp-enrolments.json"), usedCodes: join(dir, "admin", "totp-used.json") };
  return { dir, options, verifier: new AdminTotpVerifier(options) };
}

const reasonOf = (f: () => void): string => {
  try {
    f();
  } catch (err) {
    return err instanceof CredexError ? `${err.reason} ${err.code}` : String(err);
  }
  return "accepted";
};

describe("AdminTotpVerifier (GB/T 22239-2019 8.1.4.1 d; RFC 6238)", () => {
  it("ok/the enrolment file is 0600, names the certificate and carries a 160-bit base32 secret", () => {
    const { options } = setup();
    const { uri, secret } = enrolAdminTotp(options.enrolments, FP, principal.id, T);
    expect(statSync(options.enrolments).mode & 0o777).toBe(0o600);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(uri).toMatch(/^otpauth:\/\/totp\/credex:.*secret=[A-Z2-7]{32}/);
    expect(uri).toContain("algorithm=SHA1&digits=6&period=30");
    expect(readAdminTotpEnrolments(options.enrolments).get(FP)?.secret).toBe(secret);
  });

  it("ok/RFC 6238 Appendix B test vector (SHA-1, T = 59 s → 94287082, 6 digits: 287082)", () => {
    // Secret "12345678901234567890" in base32.
    expect(totpCode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", new Date(59_000))).toBe("287082");
  });

  /** A six-digit code that is none of the codes the window accepts at T. */
  const wrongCode = (secret: string): string => {
    const valid = new Set([-30_000, 0, 30_000].map((d) => totpCode(secret, new Date(T.getTime() + d))));
    let n = 0;
    while (valid.has(String(n).padStart(6, "0"))) n++;
    return String(n).padStart(6, "0");
  };

  it.each([
    ["fail/GB/T 22239-2019 8.1.4.1 d: an admin call without a TOTP code is refused", () => undefined, "ADMIN_TOTP_REQUIRED 16"],
    ["fail/GB/T 22239-2019 8.1.4.1 d: a wrong TOTP code is refused", wrongCode, "ADMIN_TOTP_INVALID 16"],
    ["fail/a code that is not six digits is refused", (secret: string) => totpCode(secret, T).slice(1), "ADMIN_TOTP_INVALID 16"],
  ])("%s", (_name, codeOf, expected) => {
    const { options, verifier } = setup();
    const { secret } = enrolAdminTotp(options.enrolments, FP, principal.id, T);
    expect(reasonOf(() => verifier.verify(principal, codeOf(secret), {}, T))).toBe(expected);
  });

  it("fail/a code two steps old (outside the ±1 step window) is refused", () => {
    const { options, verifier } = setup();
    const { secret } = enrolAdminTotp(options.enrolments, FP, principal.id, T);
    expect(reasonOf(() => verifier.verify(principal, totpCode(secret, new Date(T.getTime() - 60_000)), {}, T))).toBe("ADMIN_TOTP_INVALID 16");
  });

  it("ok/GB/T 22239-2019 8.1.4.1 d: the current code of the enrolled secret is accepted", () => {
    const { options, verifier } = setup();
    const { secret } = enrolAdminTotp(options.enrolments, FP, principal.id, T);
    expect(reasonOf(() => verifier.verify(principal, totpCode(secret, T), {}, T))).toBe("accepted");
  });

  it("fail/RFC 6238 §5.2: a code is accepted once; another connection replaying it is refused, after a restart too", () => {
    const { options, verifier } = setup();
    const { secret } = enrolAdminTotp(options.enrolments, FP, principal.id, T);
    const code = totpCode(secret, T);
    const first = {};
    expect(reasonOf(() => verifier.verify(principal, code, first, T))).toBe("accepted");
    // The same login (the TLS connection that presented the code) may go on using it.
    expect(reasonOf(() => verifier.verify(principal, code, first, new Date(T.getTime() + 5_000)))).toBe("accepted");
    expect(reasonOf(() => verifier.verify(principal, code, {}, new Date(T.getTime() + 5_000)))).toBe("ADMIN_TOTP_REPLAYED 16");
    // An earlier step's code, still inside the window, is refused too.
    expect(reasonOf(() => verifier.verify(principal, totpCode(secret, new Date(T.getTime() - 30_000)), {}, T))).toBe("ADMIN_TOTP_REPLAYED 16");
    const restarted = new AdminTotpVerifier(options);
    expect(reasonOf(() => restarted.verify(principal, code, first, new Date(T.getTime() + 5_000)))).toBe("ADMIN_TOTP_REPLAYED 16");
    expect(statSync(options.usedCodes).mode & 0o777).toBe(0o600);
    expect(readFileSync(options.usedCodes, "utf8")).not.toContain(secret);
    // The next step's code is a new login.
    expect(reasonOf(() => restarted.verify(principal, totpCode(secret, new Date(T.getTime() + 30_000)), {}, new Date(T.getTime() + 30_000)))).toBe("accepted");
  });

  it("ok/an administrator without enrolment passes when the second factor is not required (development)", () => {
    const { verifier } = setup(false);
    expect(reasonOf(() => verifier.verify(principal, undefined, {}, T))).toBe("accepted");
  });

  it("fail/with admin.totp.required (production) an administrator without enrolment is refused", () => {
    const { verifier } = setup(true);
    expect(reasonOf(() => verifier.verify(principal, "123456", {}, T))).toBe("ADMIN_TOTP_NOT_ENROLLED 16");
  });
});
