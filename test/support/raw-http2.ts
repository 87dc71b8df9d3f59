/**
 * A raw HTTP/2 client over mTLS for the adversarial suite: sends gRPC frames
 * (or garbage) exactly as given, so that behaviour below grpc-js's own client
 * (wrong content-type, truncated frames, stream and ping floods) can be shown.
 */
import { connect, constants, type ClientHttp2Session, type OutgoingHttpHeaders } from "node:http2";
import type { ClientTls } from "./adversarial.js";

export interface RawHttp2Reply {
  /** HTTP :status. */
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly trailers: Record<string, unknown>;
  readonly body: Buffer;
  /** grpc-status from trailers (or headers, for trailers-only replies). */
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string | undefined;
  /** RST_STREAM code when the stream was reset instead of answered. */
  readonly rstCode: number | undefined;
}

export function connectRawHttp2(address: string, tls: ClientTls, options: { maxOutstandingPings?: number } = {}): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://${address}`, { ...options, ca: tls.ca, ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}), servername: "localhost" });
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

/** One length-prefixed gRPC message (gRPC over HTTP/2: compressed flag, 4-byte big-endian length, bytes). */
export function grpcFrame(message: Buffer, options: { compressed?: boolean; declaredLength?: number } = {}): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(options.compressed ? 1 : 0, 0);
  header.writeUInt32BE(options.declaredLength ?? message.length, 1);
  return Buffer.concat([header, message]);
}

export const GRPC_HEADERS = { "content-type": "application/grpc", te: "trailers" } as const;

/** Sends one request on a new stream and collects the reply. */
export function rawRequest(session: ClientHttp2Session, path: string, body: Buffer, headers: OutgoingHttpHeaders = GRPC_HEADERS, options: { endStream?: boolean; timeoutMs?: number } = {}): Promise<RawHttp2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ":scheme": "https", ":authority": "localhost", ...headers }, { endStream: false });
    let responseHeaders: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      stream.close(constants.NGHTTP2_CANCEL);
      reject(new Error(`no reply on ${path} within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    stream.on("response", (h) => (responseHeaders = { ...h }));
    stream.on("trailers", (t) => (trailers = { ...t }));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => undefined); // a reset is reported through rstCode
    stream.on("close", () => {
      clearTimeout(timer);
      const source = trailers["grpc-status"] !== undefined ? trailers : responseHeaders;
      resolve({
        status: Number(responseHeaders[":status"] ?? 0),
        headers: responseHeaders,
        trailers,
        body: Buffer.concat(chunks),
        grpcStatus: source["grpc-status"] === undefined ? undefined : Number(source["grpc-status"]),
        grpcMessage: source["grpc-message"] === undefined ? undefined : decodeURIComponent(String(source["grpc-message"])),
        rstCode: stream.rstCode === constants.NGHTTP2_NO_ERROR ? undefined : stream.rstCode,
      });
    });
    if (options.endStream === false) stream.write(body);
    else stream.end(body);
  });
}
