import { existsSync } from "node:fs";

/**
 * The Chromium the browser tests drive (playwright-core does not download
 * browsers here): $CHROMIUM_PATH, else the Debian package's /usr/bin/chromium.
 * Missing, the test fails with how to install it; it never skips.
 */
export function chromiumPath(): string {
  const fromEnv = process.env["CHROMIUM_PATH"];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const candidate of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (existsSync(candidate)) return candidate;
  throw new Error("Chromium is not installed: the browser test needs it (apt-get install -y chromium, as .ci/run does) or CHROMIUM_PATH naming a Chromium binary");
}
