import type { X509Certificate } from "node:crypto";
import type { TlsMaterial } from "../adapters/grpc/server-credentials.js";
import { crlSuccessionProblem } from "./crl-succession.js";
import type { RevocationSet } from "./revocation-set.js";
import { crlFilesOf, crlIssuerKey, loadCheckedTlsMaterial, TlsMaterialError, type CheckedTlsMaterial, type TlsFiles } from "./tls-files.js";
import { watchFiles, type FileWatcher } from "./tls-watcher.js";

export type ReloadTrigger = "start" | "file-change" | "admin" | "signal";

export type ReloadOutcome =
  | { readonly ok: true; readonly trigger: ReloadTrigger; readonly serial: string; readonly notAfter: Date; readonly revoked: number }
  | { readonly ok: false; readonly trigger: ReloadTrigger; readonly reason: string };

export interface TlsReloaderOptions {
  readonly files: TlsFiles;
  /** Where new material goes: ReloadableServerCredentials.reload (new handshakes only). */
  readonly apply: (material: TlsMaterial) => void;
  /** Receives the CRL entries of every accepted set (per-call revocation check). */
  readonly revocations?: RevocationSet;
  /** Reload when a file changes (default true). */
  readonly watch?: boolean;
  readonly debounceMs?: number;
  readonly now?: () => Date;
  /** Every attempt, accepted or refused (logs, metrics, incidents). */
  readonly onReload?: (outcome: ReloadOutcome) => void;
}

export interface TlsReloader {
  /** Reads and checks the whole set; applies it only if every check passes, else keeps the material in use. */
  reload(trigger: ReloadTrigger): ReloadOutcome;
  /** The material in use. */
  current(): CheckedTlsMaterial;
  /** CA certificates of the bundle in use (e.g. to verify control items). */
  trusted(): readonly X509Certificate[];
  close(): void;
}

/**
 * Keeps a server's certificate, key, CA bundle and CRLs current: reload on a
 * file change, an admin call or a signal. Loading at start throws (a server
 * must not start with a broken set); a later reload refuses a bad set with
 * its reason and the previous material stays in use (smallstep: swap only a
 * complete, matching pair). A set whose CRLs step back from those in use is
 * refused too (crlSuccessionProblem: CRL replay). That check needs a set in
 * use, so a start loads whatever CRLs are on disk; the control topic's
 * CA-signed revocations still apply after a restart (see RevocationSet).
 */
export function createTlsReloader(options: TlsReloaderOptions): TlsReloader {
  const now = options.now ?? (() => new Date());
  let current = loadCheckedTlsMaterial(options.files, now());
  const applyRevocations = (m: CheckedTlsMaterial) => options.revocations?.replaceAll(m.revoked.map((e) => [e.serial, { reason: e.reason, revokedAt: e.revokedAt }]));
  applyRevocations(current);

  const reload = (trigger: ReloadTrigger): ReloadOutcome => {
    let outcome: ReloadOutcome;
    try {
      const next = loadCheckedTlsMaterial(options.files, now());
      // A signed, fresh CRL may still be older than the one in use: refuse a step back per issuer.
      const replay = crlSuccessionProblem(current.crls, next.crls, new Set(next.trusted.map(crlIssuerKey)));
      if (replay) throw new TlsMaterialError(replay);
      options.apply(next.material);
      current = next;
      applyRevocations(next);
      outcome = { ok: true, trigger, serial: next.leaf.serialNumber, notAfter: new Date(next.leaf.validTo), revoked: next.revoked.length };
    } catch (err) {
      if (!(err instanceof TlsMaterialError)) throw err;
      outcome = { ok: false, trigger, reason: err.message };
    }
    options.onReload?.(outcome);
    return outcome;
  };

  let watcher: FileWatcher | undefined;
  if (options.watch ?? true) {
    const f = options.files;
    watcher = watchFiles([f.cert, f.key, f.ca, ...crlFilesOf(f)], () => reload("file-change"), { debounceMs: options.debounceMs ?? 200 });
  }
  return {
    reload,
    current: () => current,
    trusted: () => current.trusted,
    close: () => watcher?.close(),
  };
}
