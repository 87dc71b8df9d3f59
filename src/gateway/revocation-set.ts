import type { Revocation, RevocationList } from "../core/stages/authenticate.js";
import { normalizeSerial } from "../core/certificate-serial.js";

/**
 * Revoked certificate serials known to this gateway, from two sources: the
 * CRL files (replaced as a whole at start and on every reload) and single
 * revocations received on the control topic or by an admin call (kept across
 * CRL reloads: a revocation announced on the topic may reach the gateway
 * before the CRL that lists it). The authenticate stage consults it on every
 * call, so a revocation takes effect for connections already open.
 */
export class RevocationSet implements RevocationList {
  private readonly fromCrl = new Map<string, Revocation>();
  private readonly announced = new Map<string, Revocation>();

  lookup(serial: string): Revocation | undefined {
    const key = normalizeSerial(serial);
    return this.announced.get(key) ?? this.fromCrl.get(key);
  }

  /** One revocation (control topic, admin call); stays until the process ends. */
  add(serial: string, reason: string, revokedAt = new Date()): void {
    this.announced.set(normalizeSerial(serial), { reason, revokedAt });
  }

  /** Lifts a revocation made at run time (an officer reversing a playbook). */
  remove(serial: string): boolean {
    // Only run-time revocations: one listed in a CRL stays until the CA publishes a CRL without it.
    return this.announced.delete(normalizeSerial(serial));
  }

  /** Replaces the entries that came from CRL files; announced ones stay. */
  replaceAll(entries: Iterable<[string, Revocation]>): void {
    this.fromCrl.clear();
    for (const [serial, r] of entries) this.fromCrl.set(normalizeSerial(serial), r);
  }

  size(): number {
    let n = this.fromCrl.size;
    for (const key of this.announced.keys()) if (!this.fromCrl.has(key)) n++;
    return n;
  }
}

