import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/**
 * POSTs a JSON body and resolves to the HTTP status (the response body is
 * drained and ignored). Rejects on a network error or when `timeoutMs`
 * passes, so that the caller's retry policy decides.
 */
export function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  const target = new URL(url);
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = request(
      target,
      { method: "POST", headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}
