import type { X509Certificate } from "node:crypto";
import type { TlsMaterial } from "../adapters/grpc/server-credentials.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import { createCertificateExpiryWatch, type CertificateExpiring, type CertificateExpiryEntry } from "../core/certificate-expiry.js";
import type { ControlChannel, ControlRecord } from "../core/control/control-channel.js";
import { startControlConsumer, type ControlConsumer, type ControlHandler, type ControlVerifier } from "../core/control/control-consumer.js";
import type { ControlItemError } from "../core/control/control-item.js";
import { REVOCATION_ITEM, revocationOf } from "../core/control/revocation-item.js";
import type { ExchangeContext } from "../core/exchange-context.js";
import type { RevocationSet } from "./revocation-set.js";
import { createTlsReloader, type ReloadOutcome, type ReloadTrigger } from "./tls-reloader.js";

export type GatewayTlsLog = (fields: Record<string, unknown>) => void;

export interface GatewayCertificatesOptions {
  readonly config: GatewayConfig;
  /** Where accepted material goes (ReloadableServerCredentials.reload). */
  readonly apply: (material: TlsMaterial) => void;
  readonly revocations: RevocationSet;
  readonly onCertificateExpiring?: ((event: CertificateExpiring) => void) | undefined;
  /** The control channel; by default built from config.control (none when absent). */
  readonly controlChannel?: ControlChannel | undefined;
  /** Handlers of other item types (policy bundles), present from the replay on. */
  readonly controlHandlers?: Readonly<Record<string, ControlHandler>> | undefined;
  /** Verifiers of item types a replica signs (runtime settings); the rest must be signed by a trusted CA. */
  readonly controlVerifiers?: Readonly<Record<string, ControlVerifier>> | undefined;
  /** Every refused control record, after it is logged. */
  readonly onControlRejected?: ((error: ControlItemError, key: string) => void) | undefined;
  readonly log?: GatewayTlsLog | undefined;
  readonly now?: (() => Date) | undefined;
  /** Debounce of file-change reloads (default 200 ms). */
  readonly debounceMs?: number | undefined;
}

export interface GatewayCertificates {
  material(): TlsMaterial;
  /** Reload now; throws with the reason when the new set is refused (the old one stays). */
  reload(trigger: ReloadTrigger): ReloadOutcome & { ok: true };
  /** Remembers the certificate an agency presented (expiry watch). */
  observeExchange(ctx: ExchangeContext): void;
  certificateExpiry(): CertificateExpiryEntry[];
  readonly control: ControlConsumer | undefined;
  /** The CA certificates in use (the bundle of the material in force). */
  trusted(): readonly X509Certificate[];
  /** Publishes on the control channel; undefined when none is configured. */
  readonly publish: ((record: ControlRecord) => Promise<void>) | undefined;
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;

/** Default log: one JSON line on stderr, like the gateway CLI's own log lines. */
const stderrLog: GatewayTlsLog = (fields) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: "gateway-tls", ...fields })}\n`);

/**
 * Everything the gateway does with certificates after start (issue 5): hot
 * reload of its TLS files (watched, admin call, SIGHUP), CRL entries into the
 * per-call RevocationSet, signed revocations from the control topic, and the
 * expiry watch. Renewing its certificate is the operator's step, outside
 * the gateway (`credex pki renew gateway --install-cert … --install-key …`):
 * the gateway never holds the issuing CA's key, it picks up the new files as
 * it picks up any rotation, and warns (30/7/1 days, incidents) until it has.
 */
export async function startGatewayCertificates(options: GatewayCertificatesOptions): Promise<GatewayCertificates> {
  const { config } = options;
  const log = options.log ?? stderrLog;
  const now = options.now ?? (() => new Date());
  const expiry = createCertificateExpiryWatch({
    now,
    onCertificateExpiring: (event) => {
      log({ msg: "certificate expiring", subject: event.subject, serial: event.serial, notAfter: event.notAfter.toISOString(), daysLeft: event.daysLeft });
      options.onCertificateExpiring?.(event);
    },
  });
  const reloader = createTlsReloader({
    files: config.tls,
    apply: options.apply,
    revocations: options.revocations,
    watch: config.tls.watch,
    now,
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    onReload: (outcome) => {
      if (outcome.ok) {
        log({ msg: "TLS material loaded", trigger: outcome.trigger, serial: outcome.serial, notAfter: outcome.notAfter.toISOString(), crlEntries: outcome.revoked });
        expiry.observe("gateway", outcome.serial, outcome.notAfter);
      } else {
        log({ msg: "TLS reload refused; the previous material stays in use", trigger: outcome.trigger, reason: outcome.reason });
      }
    },
  });
  const leaf = () => reloader.current().leaf;
  expiry.observe("gateway", leaf().serialNumber, new Date(leaf().validTo));
  const expiryTimer = setInterval(() => expiry.check(), HOUR_MS);
  expiryTimer.unref();


  let channel = options.controlChannel;
  if (!channel && config.control) {
    if (config.control.kind === "kafka") {
      const { createKafkaControlChannel } = await import("../adapters/kafka/kafka-control-channel.js");
      channel = createKafkaControlChannel({
        brokers: config.control.brokers.join(","),
        tls: config.kafka?.tls,
        topic: config.control.topic,
        clientId: `credex-gateway-${config.instance}`,
        // A topic whose config can drop a revocation before the certificate expires: refused in production, logged otherwise.
        onUnsafeTopic: config.mode === "production" ? "refuse" : (problems) => log({ msg: "control topic can lose control items", detail: problems }),
      });
    } else {
      const { createFileControlChannel } = await import("../adapters/control/file-control-channel.js");
      channel = createFileControlChannel(config.control.file);
    }
  }
  let control: ControlConsumer | undefined;
  try {
    control = channel
      ? await startControlConsumer({
          channel,
          trusted: () => reloader.trusted(),
          ...(options.controlVerifiers ? { verifiers: options.controlVerifiers } : {}),
          handlers: {
            ...options.controlHandlers,
            [REVOCATION_ITEM]: (item) => {
              const r = revocationOf(item);
              // Signed by a trusted CA: only the CA lifts it, never an officer.
              options.revocations.add(r.serial, r.reason, { revokedAt: r.revokedAt, source: "ca-control", by: item.signer });
              log({ msg: "revocation applied", source: "ca-control", serial: r.serial, reason: r.reason });
            },
          },
          onRejected: (err, key) => {
            log({ msg: "control item refused", key, reason: err.reason, detail: err.message });
            options.onControlRejected?.(err, key);
          },
        })
      : undefined;
  } catch (err) {
    reloader.close();
    clearInterval(expiryTimer);
    throw err;
  }

  return {
    material: () => reloader.current().material,
    reload(trigger) {
      const outcome = reloader.reload(trigger);
      if (!outcome.ok) throw new Error(outcome.reason);
      return outcome;
    },
    observeExchange(ctx) {
      const cert = ctx.certificate;
      if (!cert || !ctx.principal) return;
      expiry.observe(`spiffe://${config.trustDomain}/agency/${ctx.principal.agencyId}`, cert.serial, cert.notAfter);
    },
    certificateExpiry: () => expiry.snapshot(),
    control,
    trusted: () => reloader.trusted(),
    publish: publishOn(channel),
    async close() {
      reloader.close();
      clearInterval(expiryTimer);
      await control?.close();
      await channel?.close();
    },
  };
}

function publishOn(channel: ControlChannel | undefined): ((record: ControlRecord) => Promise<void>) | undefined {
  return channel ? (record) => channel.publish(record) : undefined;
}
