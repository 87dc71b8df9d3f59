import { readFileSync } from "node:fs";
import type { GatewayConfig } from "../config/gateway-config.js";
import { loadCatalogue } from "../config/catalogue-file.js";
import { loadDisclosureCatalogue } from "../config/disclosure-catalogue-file.js";
import type { ListLog } from "../core/lists/list-log.js";
import { NO_LOGGER, type Logger } from "../core/logger.js";
import { DisclosureState } from "../core/disclosure/disclosure-state.js";
import { followDisclosureFeed } from "../core/disclosure/follow-feed.js";
import { PublicView } from "../core/disclosure/public-view.js";
import { createDisclosureVerifier } from "../core/disclosure/signed-disclosure.js";
import { openDisclosureLog } from "../gateway/disclosure-service.js";
import { startDisclosureSite, type RunningDisclosureSite } from "./disclosure-site.js";

export interface ServeDisclosureOptions {
  /** The gateway config: the feed's location, the catalogues, the CA bundle and trust domain (no key is read). */
  readonly config: GatewayConfig;
  /** Instead of config.disclosure.site.listen. */
  readonly listen?: string;
  /** A feed already open in this process (the demo shares the gateway's embedded log); else the one config names. */
  readonly log?: ListLog;
  readonly logger?: Logger;
  readonly clock?: () => Date;
  readonly requestsPerMinute?: number;
}

export interface ServedDisclosure extends RunningDisclosureSite {
  /** Feed records that did not verify (never shown). */
  refused(): number;
  /** Resolves once the site shows every record the feed held when it started. */
  readonly caughtUp: Promise<void>;
}

/**
 * The public disclosure site as a process of its own (`credex disclosure
 * serve`) or beside the demo's gateway: it follows the disclosure feed,
 * verifies every record with the exchange CA bundle (it holds no key and no
 * credential to the exchange), and serves the PublicView.
 */
export async function serveDisclosure(options: ServeDisclosureOptions): Promise<ServedDisclosure> {
  const { config } = options;
  const logger = (options.logger ?? NO_LOGGER).child("disclosure-site");
  const catalogue = loadCatalogue(config.policy.categories);
  const disclosure = loadDisclosureCatalogue(config.policy.disclosure, catalogue);
  const verify = createDisclosureVerifier({ caBundlePem: readFileSync(config.tls.ca, "utf8"), trustDomain: config.trustDomain });
  const ownLog = options.log ? undefined : await openDisclosureLog(config, `credex-disclosure-site-${process.pid}`);
  const log = options.log ?? ownLog!;
  const state = new DisclosureState();
  try {
    const follower = await followDisclosureFeed(log, state, verify, (problem, at) =>
      logger.warn("disclosure feed record refused: not shown", { problem, partition: at.partition, offset: String(at.offset) }),
    );
    const site = await startDisclosureSite({
      listen: options.listen ?? config.disclosure.site.listen,
      view: new PublicView(state, catalogue, disclosure, options.clock),
      pageSize: config.disclosure.site.pageSize,
      requestsPerMinute: options.requestsPerMinute ?? config.disclosure.site.requestsPerMinute,
    });
    return {
      ...site,
      refused: follower.refused,
      caughtUp: follower.caughtUp,
      async close() {
        await site.close();
        await follower.reader.close();
        await ownLog?.close();
      },
    };
  } catch (err) {
    await ownLog?.close();
    throw err;
  }
}
