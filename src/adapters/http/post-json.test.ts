import { createServer } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson } from "./post-json.js";

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    if (req.url === "/hang") return; // never answers
    res.writeHead(req.headers["x-test"] === "ok" && body === '{"a":1}' && req.headers["content-type"] === "application/json" ? 202 : 400).end("ignored");
  });
});
let base = "";

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("postJson", () => {
  it("posts the body with its headers and resolves to the status", async () => {
    expect(await postJson(`${base}/x`, '{"a":1}', { "x-test": "ok" }, 5_000)).toBe(202);
  });
  it("rejects when no response comes in time", async () => {
    await expect(postJson(`${base}/hang`, "{}", {}, 100)).rejects.toThrow("no response within 100 ms");
  });
});
