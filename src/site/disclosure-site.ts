import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { paginate, type PublicEntry, type PublicView } from "../core/disclosure/public-view.js";
import { TokenBucket } from "../core/token-bucket.js";
import { publicSubjectId } from "../core/disclosure/mask-identifier.js";
import { SubjectType } from "../gen/credex/v1/types_pb.js";
import { atomFeed, jsonFeed } from "./feeds.js";
import { LABELS, type Lang } from "./labels.js";
import { homePage, messagePage, searchPage, STYLE, subjectPage } from "./pages.js";

export interface DisclosureSiteOptions {
  /** 127.0.0.1:<port> (0: any free port). */
  readonly listen: string;
  readonly view: PublicView;
  readonly pageSize: number;
  /** Per client IP; a burst of up to half a minute's worth is allowed. */
  readonly requestsPerMinute: number;
  /** Time for the rate limiter (tests). */
  readonly nowMs?: () => number;
}

export interface RunningDisclosureSite {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Security headers of every response: nothing but this origin's stylesheet
 * may load, no script at all (the pages need none), no framing, no sniffing,
 * no referrer (a search term in a URL is not leaked to another site).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

const MAX_QUERY = 100;
const RESIDENT_ID = /^\d{17}[\dXx]$/;
const MAX_URL = 2_048;
const MAX_CLIENTS = 10_000;
const KIND_ORDER: Record<PublicEntry["kind"], number> = { licence: 0, penalty: 1, list: 2 };

/**
 * The public disclosure site: read-only HTTP (no client certificate), its own
 * listener on loopback (a reverse proxy publishes it), server-rendered pages
 * that need no JavaScript, JSON and Atom feeds. It reads only the PublicView,
 * built from the disclosure feed: nothing here can reach the exchange's query
 * path, the providers or a level-2+ category.
 */
export async function startDisclosureSite(options: DisclosureSiteOptions): Promise<RunningDisclosureSite> {
  const m = /^127\.0\.0\.1:(\d{1,5})$/.exec(options.listen);
  if (!m) throw new Error(`the disclosure site listens on 127.0.0.1:<port> only, not "${options.listen}"`);
  const now = options.nowMs ?? (() => Date.now());
  const buckets = new Map<string, TokenBucket>();
  const admit = (ip: string): boolean => {
    let bucket = buckets.get(ip);
    if (!bucket) {
      // Bounded memory under many addresses: forget the oldest client first.
      if (buckets.size >= MAX_CLIENTS) buckets.delete(buckets.keys().next().value!);
      bucket = new TokenBucket(options.requestsPerMinute / 60, Math.max(1, Math.ceil(options.requestsPerMinute / 2)), now());
      buckets.set(ip, bucket);
    }
    return bucket.take(now());
  };

  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      send(res, 500, "text/plain; charset=utf-8", "internal error\n");
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
      return;
    }
    const raw = req.url ?? "/";
    const url = raw.length <= MAX_URL ? safeUrl(raw) : undefined;
    const lang: Lang = url?.searchParams.get("lang") === "en" ? "en" : "zh";
    // The socket's address: a forwarded-for header is the client's to write, so it is not trusted here.
    if (!admit(req.socket.remoteAddress ?? "unknown")) {
      res.setHeader("retry-after", "30");
      send(res, 429, "text/html; charset=utf-8", messagePage(lang, LABELS[lang].tooMany));
      return;
    }
    if (!url) {
      send(res, 400, "text/plain; charset=utf-8", "bad request\n");
      return;
    }
    const page = Number.parseInt(url.searchParams.get("page") ?? "1", 10);
    const path = url.pathname;
    const view = options.view;
    if (path === "/") {
      send(res, 200, "text/html; charset=utf-8", homePage(lang, paginate(view.entries(), page, options.pageSize)));
    } else if (path === "/search") {
      const q = (url.searchParams.get("q") ?? "").slice(0, MAX_QUERY);
      // A person's full id number searched for is matched in its masked form and echoed only masked (page, links).
      const shown = RESIDENT_ID.test(q.trim()) ? publicSubjectId(SubjectType.NATURAL_PERSON, q.trim().toUpperCase()) : q;
      send(res, 200, "text/html; charset=utf-8", searchPage(lang, shown, paginate(view.search(q), page, options.pageSize)));
    } else if (path.startsWith("/subject/")) {
      const id = decodePath(path.slice("/subject/".length));
      const entries = id === undefined ? [] : view.subject(id).sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || b.decisionDate.localeCompare(a.decisionDate) || b.publishedAt.localeCompare(a.publishedAt) || a.id.localeCompare(b.id));
      if (id === undefined || entries.length === 0) send(res, 404, "text/html; charset=utf-8", messagePage(lang, LABELS[lang].notFound));
      else send(res, 200, "text/html; charset=utf-8", subjectPage(lang, id, entries, paginate(entries, page, options.pageSize)));
    } else if (path === "/feed.json") {
      send(res, 200, "application/json; charset=utf-8", jsonFeed(paginate(view.entries(), page, options.pageSize)));
    } else if (path === "/feed.atom") {
      send(res, 200, "application/atom+xml; charset=utf-8", atomFeed(paginate(view.entries(), page, options.pageSize)));
    } else if (path === "/style.css") {
      send(res, 200, "text/css; charset=utf-8", STYLE, "public, max-age=3600");
    } else {
      send(res, 404, "text/html; charset=utf-8", messagePage(lang, LABELS[lang].notFound));
    }
  }

  function send(res: ServerResponse, status: number, type: string, body: string, cache = "no-store"): void {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    res.setHeader("content-type", type);
    res.setHeader("cache-control", cache);
    const bytes = Buffer.from(body, "utf8");
    res.setHeader("content-length", bytes.length);
    res.statusCode = status;
    res.end(res.req.method === "HEAD" ? undefined : bytes);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(m[1]), "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function safeUrl(raw: string): URL | undefined {
  try {
    return new URL(raw, "http://site.invalid");
  } catch {
    return undefined;
  }
}

function decodePath(segment: string): string | undefined {
  try {
    const id = decodeURIComponent(segment);
    return id.length > 0 && id.length <= 64 && !id.includes("/") ? id : undefined;
  } catch {
    return undefined;
  }
}
