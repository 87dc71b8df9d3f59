import { createPrivateKey, X509Certificate, randomUUID } from "node:crypto";
import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import type { DisclosureEntry, PublishDisclosuresRequest } from "../gen/credex/v1/disclosure_pb.js";
import { CredexError, toCredexError } from "../core/errors.js";
import type { AuditSink } from "../core/audit-sink.js";
import type { Catalogue } from "../core/catalogue.js";
import type { AuthenticateDeps } from "../core/stages/authenticate.js";
import type { Pseudonymize } from "../core/stages/audit.js";
import type { Admission } from "../core/limits/admission.js";
import type { MemberCallContext } from "../core/audit/member-call-event.js";
import type { ListLog } from "../core/lists/list-log.js";
import type { Logger } from "../core/logger.js";
import type { DisclosureCatalogue } from "../core/disclosure/disclosure-catalogue.js";
import { DisclosureState } from "../core/disclosure/disclosure-state.js";
import { publishDisclosures, type DisclosureDeps } from "../core/disclosure/publish-disclosures.js";
import { createDisclosureVerifier, type DisclosureSigner } from "../core/disclosure/signed-disclosure.js";
import { followDisclosureFeed, type FeedFollower } from "../core/disclosure/follow-feed.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import { loadDisclosureCatalogue } from "../config/disclosure-catalogue-file.js";
import type { TlsMaterial } from "../adapters/grpc/server-credentials.js";
import { openKafkaListLog } from "../adapters/kafka/kafka-list-log.js";
import { openFileListLog } from "../adapters/lists/file-list-log.js";
import { isUndecodable, requestSizeOf, type UndecodableRequest } from "../adapters/grpc/service-definition.js";
import { statusFromError } from "../adapters/grpc/rich-status.js";
import { peerTlsOf } from "../adapters/grpc/peer-tls.js";

/** Optional parts for tests and embedding programs (GatewayParts.disclosure). */
export interface DisclosureServiceParts {
  /** The feed to use instead of the one config names. */
  readonly log?: ListLog;
  /** Injectable clock: publication date, lag and publicity periods (tests move it). */
  readonly clock?: () => Date;
  /** An entry published past the 7 working days of 2700号 (the incident system wires it). */
  readonly onLatePublication?: (entry: DisclosureEntry, maxLagWorkingDays: number) => void;
}

export interface DisclosureServiceInput {
  readonly config: GatewayConfig;
  readonly catalogue: Catalogue;
  readonly authenticate: AuthenticateDeps;
  readonly auditSink: () => AuditSink;
  readonly pseudonymize: Pseudonymize;
  /** The gateway's TLS material in force: records are signed with its served certificate and key. */
  readonly material: () => TlsMaterial;
  readonly acceptingCalls: () => boolean;
  readonly admission?: Admission | undefined;
  readonly logger: Logger;
  readonly parts?: DisclosureServiceParts | undefined;
}

export interface DisclosureService {
  /** grpc-js handler of CreditExchange.PublishDisclosures. */
  readonly handlers: Record<string, unknown>;
  readonly log: ListLog;
  readonly catalogue: DisclosureCatalogue;
  /** The feed as this gateway reads it (its own appends included). */
  readonly state: DisclosureState;
  close(): Promise<void>;
}

/** Opens the disclosure feed config names: the Kafka topic, or the embedded file log (demo, development). */
export async function openDisclosureLog(config: GatewayConfig, clientId: string): Promise<ListLog> {
  const d = config.disclosure;
  return d.log === "kafka"
    ? openKafkaListLog({ brokers: d.kafka!.brokers.join(","), tls: config.kafka?.tls, topic: d.kafka!.topic, partitions: d.kafka!.partitions, clientId })
    : openFileListLog(d.file, "embedded:credex.disclosure.v1");
}

/**
 * PublishDisclosures on CreditExchange: the feed (Kafka or file), this
 * gateway's reading of it (to check corrections and withdrawals), and the
 * handler. Records are signed with the gateway's served TLS key, so readers
 * verify them with the CA bundle alone.
 */
export async function startDisclosureService(input: DisclosureServiceInput): Promise<DisclosureService> {
  const { config } = input;
  const parts = input.parts ?? {};
  const catalogue = loadDisclosureCatalogue(config.policy.disclosure, input.catalogue);
  const log = parts.log ?? (await openDisclosureLog(config, `credex-${config.instance}-disclosure`));
  const state = new DisclosureState();
  let follower: FeedFollower;
  try {
    const verify = createDisclosureVerifier({ caBundlePem: input.material().ca.toString("utf8"), trustDomain: config.trustDomain });
    const log_ = input.logger.child("disclosure");
    follower = await followDisclosureFeed(log, state, verify, (problem, at) => log_.warn("disclosure feed record refused", { problem, partition: at.partition, offset: String(at.offset) }));
    // Serve only once the feed is read up to where it was: after a restart, corrections and
    // withdrawals of earlier entries must find them.
    await Promise.race([follower.caughtUp, follower.reader.done.then(() => Promise.reject(new Error("the disclosure feed reader stopped before it caught up")))]);
  } catch (err) {
    await log.close();
    throw err;
  }

  let signerOf: { material: TlsMaterial; signer: DisclosureSigner } | undefined;
  const signer = (): DisclosureSigner => {
    const material = input.material();
    if (signerOf?.material !== material) {
      const leaf = new X509Certificate(material.cert);
      signerOf = { material, signer: { certificateDer: leaf.raw, key: createPrivateKey(material.key) } };
    }
    return signerOf.signer;
  };
  const deps: DisclosureDeps = {
    authenticate: input.authenticate,
    catalogue: input.catalogue,
    disclosure: catalogue,
    log,
    state,
    signer,
    auditSink: input.auditSink,
    pseudonymize: input.pseudonymize,
    clock: parts.clock ?? (() => new Date()),
    newId: randomUUID,
    maxEntriesPerPublish: config.disclosure.maxEntriesPerPublish,
    admission: input.admission,
    onLatePublication: parts.onLatePublication ? (entry) => parts.onLatePublication!(entry, catalogue.maxLagWorkingDays) : undefined,
  };

  const handlers = {
    publishDisclosures(call: ServerUnaryCall<PublishDisclosuresRequest | UndecodableRequest | undefined, unknown>, callback: sendUnaryData<unknown>) {
      const ctx: MemberCallContext = {
        callId: randomUUID(),
        traceId: randomUUID().replaceAll("-", ""),
        gatewayInstance: config.instance,
        method: "PublishDisclosures",
        receivedAt: new Date(),
        peerAddress: call.getPeer(),
        requestBytes: requestSizeOf(call.request as object),
        attributes: {},
      };
      const raw = call.request;
      const request: PublishDisclosuresRequest | CredexError = !input.acceptingCalls()
        ? new CredexError("SHUTTING_DOWN")
        : raw === undefined
          ? new CredexError("REQUEST_MALFORMED", "the request is empty")
          : isUndecodable(raw)
            ? new CredexError(raw.$undecodable, `the request could not be accepted: ${raw.detail}`, { size: String(raw.size) })
            : raw;
      publishDisclosures(deps, ctx, peerTlsOf(call), request).then(
        (response) => callback(null, response),
        (err) => callback(statusFromError(toCredexError(err))),
      );
    },
  };

  return {
    handlers,
    log,
    catalogue,
    state,
    async close() {
      await follower.reader.close();
      await log.close();
    },
  };
}
