import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { KAFKA_POM, KAFKA_VERSION, kafkaCacheDir, kafkaJarsCached, kafkaLibsDir } from "./kafka-jars.js";

describe("kafka jar cache", () => {
  it("ok/defaults to ~/.cache/credex/kafka-<version>", () => {
    expect(kafkaCacheDir({})).toBe(join(homedir(), ".cache", "credex", `kafka-${KAFKA_VERSION}`));
  });

  it("ok/CREDEX_KAFKA_CACHE overrides it", () => {
    expect(kafkaCacheDir({ CREDEX_KAFKA_CACHE: "rel/cache" })).toBe(resolve("rel/cache"));
    expect(kafkaLibsDir("/c")).toBe("/c/libs");
  });

  it("ok/a directory without the completion marker is not a cache", () => {
    expect(kafkaJarsCached("/nonexistent/credex-cache")).toBe(false);
  });

  it("ok/KAFKA_VERSION is the version deploy/kafka/pom.xml fetches", () => {
    expect(readFileSync(KAFKA_POM, "utf8")).toContain(`<kafka.version>${KAFKA_VERSION}</kafka.version>`);
  });
});
