import { createHmac, timingSafeEqual } from "node:crypto";

/** Header carrying `sha256=<hex HMAC-SHA256>` over `<timestamp>.<body>` (RFC 2104). */
export const SIGNATURE_HEADER = "x-credex-signature";
/** Unix seconds of signing; inside the MAC, so a receiver can refuse replays of old deliveries. */
export const TIMESTAMP_HEADER = "x-credex-timestamp";

export function signWebhookBody(secret: Buffer, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** What a receiver runs: constant-time comparison of the expected and presented signatures. */
export function verifyWebhookSignature(secret: Buffer, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhookBody(secret, Number(timestamp), body));
  const presented = Buffer.from(signature);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}
