/**
 * TOTP (RFC 6238) as authenticator apps compute it: HMAC-SHA1, 30-second steps,
 * 6 digits, T0 = 0, through the `otpauth` library (not hand-written). Only this
 * module imports it.
 */
import { Secret, TOTP } from "otpauth";

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Accepted clock skew either side, in steps (RFC 6238 §5.2 recommends at most one). */
export const TOTP_WINDOW_STEPS = 1;

function totpOf(secretBase32: string, label = "admin", issuer = "credex"): TOTP {
  return new TOTP({ issuer, label, algorithm: "SHA1", digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) });
}

/** A new shared secret: 160 random bits (RFC 4226 §4 R6), base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app enrols from. */
export function totpUri(secretBase32: string, label: string, issuer: string): string {
  return totpOf(secretBase32, label, issuer).toString();
}

/** The code for `at` (what an authenticator app shows). */
export function totpCode(secretBase32: string, at: Date): string {
  return totpOf(secretBase32).generate({ timestamp: at.getTime() });
}

/** The time step (RFC 6238 T) of `at`. */
export function totpStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/** The time step whose code `code` is, within ±TOTP_WINDOW_STEPS of `at`; undefined when it matches none. */
export function matchTotp(secretBase32: string, code: string, at: Date): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totpOf(secretBase32).validate({ token: code, timestamp: at.getTime(), window: TOTP_WINDOW_STEPS });
  return delta === null ? undefined : totpStep(at) + delta;
}
