import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import type { ServiceError } from "@grpc/grpc-js";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { errorInfoOf } from "../../src/adapters/grpc/rich-status.js";
import { createExchangeClient } from "../../src/client/exchange-client.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import type { Federation } from "../../src/demo/federation.js";

export { credex } from "./cli.js";


/** Replaces a file the way operators should: write a temp file, then rename over the old one. */
export function replaceFile(path: string, content: string | Buffer): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

/** Polls `probe` until it returns a value (not undefined), failing after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The serial of the certificate a fresh TLS handshake is served (upper-case hex, no leading zeros). */
export function servedSerial(address: string, caFile: string, client: { cert: string; key: string }): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca: readFileSync(caFile), cert: readFileSync(client.cert), key: readFileSync(client.key), ALPNProtocols: ["h2"] }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial.toUpperCase().replace(/^0+(?=.)/, ""));
    });
    socket.on("error", reject);
  });
}

export const PUBLIC_QUERY = { subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.LOAN_APPROVAL };

export interface CallFailure {
  readonly agency: string;
  readonly reason: string;
  readonly message: string;
  readonly metadata: Record<string, string>;
  readonly at: number;
}

export interface LoadResult {
  readonly ok: Record<string, number>;
  readonly failures: CallFailure[];
}

/**
 * Continuous queries from several agencies, each agency one call at a time
 * (bounded load). `persistent` agencies reuse one channel (their connection
 * stays open across reloads); `fresh` agencies open a new connection for
 * every call (a new handshake against whatever material is loaded).
 */
export function startLoad(fed: Federation, agencies: { persistent?: string[]; fresh?: string[]; caFile?: string }): { stop(): Promise<LoadResult>; failuresOf(agency: string): CallFailure[] } {
  let running = true;
  const ok: Record<string, number> = {};
  const failures: CallFailure[] = [];
  const record = (agency: string, err: unknown) => {
    const info = errorInfoOf(err as ServiceError);
    failures.push({ agency, reason: info?.reason ?? `code ${(err as ServiceError).code}`, message: (err as Error).message, metadata: { ...(info?.metadata ?? {}) }, at: Date.now() });
  };
  const caFile = agencies.caFile ?? fed.pki.caBundle;
  const loop = async (agency: string, fresh: boolean) => {
    const member = fed.pki.agencies[agency]!;
    const make = () => createExchangeClient({ address: fed.gateway.address, trustDomain: fed.pki.trustDomain, certFile: member.client.cert, keyFile: member.client.key, caFile });
    const shared = fresh ? undefined : make();
    while (running) {
      const client = shared ?? make();
      try {
        await client.query(PUBLIC_QUERY, { timeoutMs: 5_000 });
        ok[agency] = (ok[agency] ?? 0) + 1;
      } catch (err) {
        record(agency, err);
        // A refused agency keeps trying, like a real client, but not in a tight loop.
        await new Promise((r) => setTimeout(r, 20));
      } finally {
        if (!shared) client.close();
      }
    }
    shared?.close();
  };
  const loops = [...(agencies.persistent ?? []).map((a) => loop(a, false)), ...(agencies.fresh ?? []).map((a) => loop(a, true))];
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { ok, failures };
    },
    failuresOf: (agency) => failures.filter((f) => f.agency === agency),
  };
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
