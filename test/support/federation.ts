import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import type { ServiceError } from "@grpc/grpc-js";
import { SealedAuditRecordSchema, type AuditEvent } from "../../src/gen/credex/v1/audit_pb.js";
import { readAuditLogFile } from "../../src/adapters/audit/audit-log-file.js";
import { readInstanceKafkaAudit } from "./kafka-audit.js";
import { loadKeyRing } from "../../src/core/audit/key-ring.js";
import { openSealedRecord } from "../../src/core/audit/seal.js";
import { errorInfoOf } from "../../src/adapters/grpc/rich-status.js";
import { startFederation, type Federation, type FederationOptions } from "../../src/demo/federation.js";

/** A demo federation in a fresh temp dir, with 2048-bit keys to keep test set-up short. */
export async function startTestFederation(options: Partial<FederationOptions> = {}): Promise<Federation & { cleanup(): Promise<void> }> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "credex-test-")));
  const federation = await startFederation({ keyBits: 2048, ...options, dir });
  return Object.assign(federation, {
    async cleanup() {
      await federation.stop();
      await rm(dir, { recursive: true, force: true });
    },
  });
}

/** Every audit event of the federation's gateway (file sink or Kafka topic), decrypted. */
export async function auditEvents(federation: Federation): Promise<AuditEvent[]> {
  await federation.gateway.auditSink().flush();
  const ring = await loadKeyRing(federation.manifest.keyRing);
  const events: AuditEvent[] = [];
  const kafka = /^kafka:\/\/([^/]+)\/(.+)$/.exec(federation.manifest.auditLog);
  if (kafka) return (await readInstanceKafkaAudit({ brokers: kafka[1]!, topic: kafka[2]!, checkpointTopic: null }, federation.gateway.config.instance, ring)).events;
  for await (const entry of readAuditLogFile(federation.manifest.auditLog)) {
    if (entry.kind === "record") events.push(openSealedRecord(fromBinary(SealedAuditRecordSchema, entry.bytes), ring));
  }
  return events;
}

/** The audit event of one exchange; fails the test if there is not exactly one. */
export async function auditEventOf(federation: Federation, match: (e: AuditEvent) => boolean): Promise<AuditEvent> {
  const found = (await auditEvents(federation)).filter(match);
  if (found.length !== 1) throw new Error(`expected exactly one matching audit event, found ${found.length}`);
  return found[0]!;
}

/** Awaits a call expected to fail; returns its gRPC code and ErrorInfo reason. */
export async function failureOf(call: Promise<unknown>): Promise<{ code: number; reason: string; message: string; metadata: Record<string, string> }> {
  try {
    await call;
  } catch (err) {
    const info = errorInfoOf(err as ServiceError);
    return { code: (err as ServiceError).code, reason: info?.reason ?? "", message: (err as ServiceError).details, metadata: { ...(info?.metadata ?? {}) } };
  }
  throw new Error("the call succeeded but was expected to fail");
}
