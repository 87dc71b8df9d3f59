import type { Revocation, RevocationList } from "../core/stages/authenticate.js";

/**
 * Revoked certificate serials known to this gateway: from the CRL file at
 * start and reload, and from revocations received on the control topic. The
 * authenticate stage consults it on every call, so a revocation takes effect
 * for connections already open (not only at the next handshake).
 */
export class RevocationSet implements RevocationList {
  private readonly bySerial = new Map<string, Revocation>();

  lookup(serial: string): Revocation | undefined {
    return this.bySerial.get(normalizeSerial(serial));
  }

  add(serial: string, reason: string, revokedAt = new Date()): void {
    this.bySerial.set(normalizeSerial(serial), { reason, revokedAt });
  }

  /** Lifts a revocation made at run time (an officer reversing a playbook). */
  remove(serial: string): boolean {
    return this.bySerial.delete(normalizeSerial(serial));
  }

  replaceAll(entries: Iterable<[string, Revocation]>): void {
    this.bySerial.clear();
    for (const [serial, r] of entries) this.bySerial.set(normalizeSerial(serial), r);
  }

  size(): number {
    return this.bySerial.size;
  }
}

/** Serials compare as uppercase hex without leading zeros or separators. */
export function normalizeSerial(serial: string): string {
  return serial.replace(/[:\s]/g, "").toUpperCase().replace(/^0+(?=.)/, "");
}
