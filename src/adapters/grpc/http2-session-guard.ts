import { constants, type Http2Server, type Http2Session, type ServerHttp2Stream } from "node:http2";
import type { Server } from "@grpc/grpc-js";
import { CredexError } from "../../core/errors.js";
import { STATUS_DETAILS_KEY, statusFromError } from "./rich-status.js";

export interface Http2SessionGuardOptions {
  /** PINGs a peer may send per second on one connection before it is closed. */
  readonly maxPingsPerSecond: number;
  /** Time a caller has to finish sending its request once a stream is opened. */
  readonly requestReceiveTimeoutMs: number;
  /** Paths exempt from the receive timeout (long-lived client-streaming calls such as reflection). */
  readonly longLivedPathPrefixes?: readonly string[];
  /** Told when a connection closes (per-agency connection counts). */
  readonly onSessionClosed?: (session: Http2Session) => void;
}

export interface Http2SessionGuard {
  /** Figures since start, for metrics and tests. */
  readonly stats: { pingFloodsClosed: number; slowRequestsCancelled: number; sessionsSeen: number };
  /** Closes a connection gracefully: GOAWAY, calls in flight finish, no new calls (e.g. over the agency's connection limit). */
  closeGracefully(session: object): void;
}

/** gRPC's GOAWAY debug data for ping abuse (gRPC core, doc/keepalive.md: "too_many_pings"). */
const TOO_MANY_PINGS = Buffer.from("too_many_pings");

/**
 * Transport protections grpc-js does not give (grpc-js 1.14 answers every
 * PING and has no request-read timeout):
 * - ping floods: nghttp2 acknowledges each PING; a peer sending them in a
 *   loop costs CPU and write buffers (CVE-2019-9512). Over the limit the
 *   connection gets GOAWAY ENHANCE_YOUR_CALM, as gRPC core does
 *   (RFC 9113 §6.8, §7), and is destroyed.
 * - slow requests (slowloris): a stream whose request is not complete within
 *   the timeout gets a trailers-only gRPC reply, RESOURCE_EXHAUSTED
 *   REQUEST_RECEIVE_TIMEOUT, so held streams do not accumulate. No handler
 *   ran, so there is no exchange to audit.
 * Stream floods are bounded by SETTINGS_MAX_CONCURRENT_STREAMS
 * (grpc.max_concurrent_streams) and node's maxSessionRejectedStreams.
 *
 * grpc-js keeps its node http2 servers in a private `http2Servers` map: this
 * reads it after bind. test/adversarial/abuse.test.ts fails if an upgrade
 * moves it, and so does this function (it throws when no server is found).
 */
export function guardHttp2Sessions(server: Server, options: Http2SessionGuardOptions): Http2SessionGuard {
  const http2Servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map) || http2Servers.size === 0) {
    throw new Error("guardHttp2Sessions: grpc-js server has no bound http2 server (call after bindAsync; grpc-js internals changed?)");
  }
  const stats = { pingFloodsClosed: 0, slowRequestsCancelled: 0, sessionsSeen: 0 };
  const exempt = options.longLivedPathPrefixes ?? ["/grpc.reflection.", "/grpc.health.v1.Health/Watch"];

  const onSession = (session: Http2Session) => {
    stats.sessionsSeen++;
    let windowStart = Date.now();
    let pings = 0;
    session.on("ping", () => {
      const now = Date.now();
      if (now - windowStart >= 1_000) {
        windowStart = now;
        pings = 0;
      }
      if (++pings <= options.maxPingsPerSecond || session.destroyed) return;
      stats.pingFloodsClosed++;
      try {
        session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, TOO_MANY_PINGS);
      } finally {
        session.destroy();
      }
    });
    session.on("stream", (stream: ServerHttp2Stream, headers: Record<string, unknown>) => {
      const path = String(headers[":path"] ?? "");
      if (exempt.some((prefix) => path.startsWith(prefix))) return;
      const timer = setTimeout(() => {
        if (stream.destroyed || stream.readableEnded) return;
        stats.slowRequestsCancelled++;
        refuseStream(stream, new CredexError("REQUEST_RECEIVE_TIMEOUT", undefined, { limit_ms: String(options.requestReceiveTimeoutMs) }));
      }, options.requestReceiveTimeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      stream.once("end", clear);
      stream.once("close", clear);
    });
    session.once("close", () => options.onSessionClosed?.(session));
  };
  for (const http2Server of http2Servers.keys()) http2Server.on("session", onSession);

  return {
    stats,
    closeGracefully(session) {
      const s = session as Http2Session;
      if (typeof s.close === "function" && !s.closed && !s.destroyed) s.close();
    },
  };
}

/** A trailers-only gRPC reply (gRPC over HTTP/2: status in the HEADERS frame that ends the stream). */
function refuseStream(stream: ServerHttp2Stream, err: CredexError): void {
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_CANCEL);
    return;
  }
  const details = statusFromError(err).metadata.get(STATUS_DETAILS_KEY)[0] as Buffer;
  try {
    stream.respond(
      {
        ":status": 200,
        "content-type": "application/grpc+proto",
        "grpc-status": String(err.code),
        "grpc-message": encodeURIComponent(err.message),
        [STATUS_DETAILS_KEY]: details.toString("base64"),
      },
      { endStream: true },
    );
    // The caller has not finished sending: RST_STREAM NO_ERROR tells it to stop (RFC 9113 §8.1) and closes
    // the stream for grpc-js too, which then treats the call as cancelled instead of answering it later.
    stream.close(constants.NGHTTP2_NO_ERROR);
  } catch {
    stream.close(constants.NGHTTP2_CANCEL);
  }
}

interface CallChainLink {
  call?: CallChainLink;
  nextCall?: CallChainLink;
  stream?: { session?: Http2Session };
}

/** The HTTP/2 session (connection) under a grpc-js server call; same internals as peer-tls.ts. */
export function sessionOfCall(call: object): Http2Session | undefined {
  let link: CallChainLink | undefined = call as CallChainLink;
  for (let depth = 0; link && depth < 8; depth++) {
    if (link.stream?.session) return link.stream.session;
    link = link.call ?? link.nextCall;
  }
  return undefined;
}
