import type { Revocation, RevocationList } from "../core/stages/authenticate.js";
import { normalizeSerial } from "../core/certificate-serial.js";
import { CredexError } from "../core/errors.js";

/**
 * Who revoked a certificate. The CA speaks through its CRL
 * and its signed control items; officers through the admin API; playbooks
 * through containment actions.
 */
export type RevocationSource = "crl" | "ca-control" | "playbook" | "officer";

export interface RecordedRevocation extends Revocation {
  readonly source: RevocationSource;
  /** The signer's certificate fingerprint (ca-control), the officer's id, the playbook's reason; "" when unknown. */
  readonly by: string;
}

/**
 * What an officer's UnrevokeCertificate may lift: what officers and playbooks
 * did (playbook actions are "reversible by an officer", docs/incidents.md).
 * The CA's revocations are lifted only by the CA: a CRL without the serial;
 * a signed control item is final (RFC 5280 §3.3).
 */
export const OFFICER_LIFTABLE: readonly RevocationSource[] = ["officer", "playbook"];

/** Order of lookup(): the CA's word first, so CLIENT_CERT_REVOKED carries the CA's reason. */
const PRECEDENCE: readonly RevocationSource[] = ["ca-control", "crl", "playbook", "officer"];

type AnnouncedSource = Exclude<RevocationSource, "crl">;

/**
 * Revoked certificate serials known to this gateway, from two sources: the
 * CRL files (replaced as a whole at start and on every reload) and single
 * revocations received on the control topic or by an admin call or playbook
 * (kept across CRL reloads: a revocation announced on the topic may reach the
 * gateway before the CRL that lists it). Each revocation keeps its source, and
 * a serial may be revoked by several; the authenticate stage consults the set
 * on every call, so a revocation takes effect for connections already open.
 */
export class RevocationSet implements RevocationList {
  private readonly fromCrl = new Map<string, Revocation>();
  private readonly announced = new Map<string, Map<AnnouncedSource, RecordedRevocation>>();

  lookup(serial: string): RecordedRevocation | undefined {
    return this.sources(serial)[0];
  }

  /** Every revocation of the serial, the CA's first. */
  sources(serial: string): RecordedRevocation[] {
    const key = normalizeSerial(serial);
    const found: RecordedRevocation[] = [...(this.announced.get(key)?.values() ?? [])];
    const crl = this.fromCrl.get(key);
    if (crl) found.push({ ...crl, source: "crl", by: "" });
    return found.sort((a, b) => PRECEDENCE.indexOf(a.source) - PRECEDENCE.indexOf(b.source));
  }

  /** One revocation (control topic, admin call, playbook); stays until lifted by its authority or the process ends. */
  add(serial: string, reason: string, options: { revokedAt?: Date; source?: AnnouncedSource; by?: string } = {}): void {
    const key = normalizeSerial(serial);
    const source = options.source ?? "officer";
    let bySource = this.announced.get(key);
    if (!bySource) this.announced.set(key, (bySource = new Map()));
    bySource.set(source, { reason, revokedAt: options.revokedAt ?? new Date(), source, by: options.by ?? "" });
  }

  /**
   * The revocations an officer's UnrevokeCertificate would lift; throws when
   * there are none (ADMIN_TARGET_UNKNOWN) or when another authority revoked the
   * serial too (REVOCATION_NOT_LIFTABLE, metadata `source`): then nothing is lifted.
   */
  officerLiftable(serial: string): RecordedRevocation[] {
    const key = normalizeSerial(serial);
    const all = this.sources(key);
    if (all.length === 0) throw new CredexError("ADMIN_TARGET_UNKNOWN", `certificate ${key} is not revoked on this gateway`, { serial: key });
    const held = all.find((r) => !OFFICER_LIFTABLE.includes(r.source));
    if (held) {
      const by = held.source === "crl" ? "the CA's CRL (lifted only by a CRL without it)" : "a control item signed by the CA (final)";
      throw new CredexError("REVOCATION_NOT_LIFTABLE", `certificate ${key} is revoked by ${by}; an officer cannot lift it`, { serial: key, source: held.source });
    }
    return all;
  }

  /** Lifts the run-time revocations of these sources; returns what was lifted. A CRL entry stays until the CA publishes a CRL without it. */
  remove(serial: string, sources: readonly AnnouncedSource[] = ["officer", "playbook"]): RecordedRevocation[] {
    const key = normalizeSerial(serial);
    const bySource = this.announced.get(key);
    if (!bySource) return [];
    const lifted: RecordedRevocation[] = [];
    for (const source of sources) {
      const r = bySource.get(source);
      if (r) lifted.push(r);
      bySource.delete(source);
    }
    if (bySource.size === 0) this.announced.delete(key);
    return lifted;
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
