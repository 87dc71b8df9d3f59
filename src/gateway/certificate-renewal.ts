import { chmod, copyFile, readFile, rename } from "node:fs/promises";
import { resolve } from "node:path";
import type { ReloadOutcome } from "./tls-reloader.js";

/**
 * When to renew (smallstep certificates): once a third of the validity is
 * left, moved earlier by a random part of 1/20 of the validity so that
 * replicas issued together do not renew together.
 */
export function renewalTime(notBefore: Date, notAfter: Date, random: () => number = Math.random): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return new Date(notAfter.getTime() - lifetime / 3 - random() * (lifetime / 20));
}

export type RenewalOutcome =
  | { readonly renewed: true; readonly serial: string; readonly previousSerial: string; readonly notAfter: Date; readonly reload: ReloadOutcome }
  | { readonly renewed: false; readonly reason: string };

export interface CertificateRenewalOptions {
  /** The files the server loads its certificate and key from. */
  readonly files: { readonly cert: string; readonly key: string };
  /** The CA directory (src/adapters/pki/ca-directory.ts) and the name of this server's certificate in it. */
  readonly renew: { readonly caDir: string; readonly passphraseFile?: string | undefined; readonly name: string };
  /** Validity of the certificate in use. */
  readonly current: () => { notBefore: Date; notAfter: Date };
  /** Loads the new files (checked, hot-swapped). */
  readonly reload: () => ReloadOutcome;
  readonly now?: () => Date;
  readonly random?: () => number;
  /** How often the timer looks at the clock (default 60 s). */
  readonly checkIntervalMs?: number;
  readonly onRenewal?: (outcome: RenewalOutcome) => void;
}

export interface CertificateRenewal {
  /** When the certificate in use is due. */
  dueAt(): Date;
  /** Renews if due; resolves to undefined when not due. */
  check(): Promise<RenewalOutcome | undefined>;
  /** Renews now, due or not. */
  renewNow(): Promise<RenewalOutcome>;
  stop(): void;
}

/** Replaces `to` with `from` by copy-then-rename, so a reader never sees half a file. */
async function replaceFile(from: string, to: string, mode: number): Promise<void> {
  if (resolve(from) === resolve(to)) return;
  const tmp = `${to}.renew-${process.pid}`;
  await copyFile(from, tmp);
  await chmod(tmp, mode);
  await rename(tmp, to);
}

/**
 * Automatic renewal of a server's own certificate from the CA directory it
 * has access to: a new key and certificate with the same profile
 * (renewInDirectory), written over the served files, then hot-swapped; calls
 * in flight continue on their connections.
 */
export function startCertificateRenewal(options: CertificateRenewalOptions): CertificateRenewal {
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  // One jitter draw per certificate: re-drawing on every check would make renewal earlier, not spread.
  let drawnFor = "";
  let due = new Date(0);
  const dueAt = () => {
    const c = options.current();
    const key = `${c.notBefore.getTime()}-${c.notAfter.getTime()}`;
    if (key !== drawnFor) {
      drawnFor = key;
      due = renewalTime(c.notBefore, c.notAfter, random);
    }
    return due;
  };
  let running: Promise<RenewalOutcome> | undefined;

  const renewNow = (): Promise<RenewalOutcome> => {
    running ??= (async (): Promise<RenewalOutcome> => {
      try {
        const { renewInDirectory, caPaths } = await import("../adapters/pki/ca-directory.js");
        const passphrase = options.renew.passphraseFile ? (await readFile(options.renew.passphraseFile, "utf8")).replace(/\r?\n$/, "") : undefined;
        const { entry, previous } = await renewInDirectory(options.renew.caDir, options.renew.name, { passphrase, now: now() });
        const p = caPaths(options.renew.caDir);
        await replaceFile(p.issuedKey(entry.name), options.files.key, 0o600);
        await replaceFile(p.issuedCert(entry.name), options.files.cert, 0o644);
        const reload = options.reload();
        if (!reload.ok) return { renewed: false, reason: `renewed as serial ${entry.serial} but the reload was refused: ${reload.reason}` };
        return { renewed: true, serial: entry.serial, previousSerial: previous.serial, notAfter: new Date(entry.notAfter), reload };
      } catch (err) {
        return { renewed: false, reason: (err as Error).message };
      }
    })()
      .then((outcome) => {
        options.onRenewal?.(outcome);
        return outcome;
      })
      .finally(() => (running = undefined));
    return running;
  };

  const check = async () => (now().getTime() >= dueAt().getTime() ? renewNow() : undefined);
  const timer = setInterval(() => void check(), options.checkIntervalMs ?? 60_000);
  timer.unref();
  return { dueAt, check, renewNow, stop: () => clearInterval(timer) };
}
