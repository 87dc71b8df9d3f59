import { afterEach, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DisclosureAction, DisclosureEntrySchema } from "../gen/credex/v1/disclosure_pb.js";
import { SubjectType } from "../gen/credex/v1/types_pb.js";
import type { Catalogue } from "../core/catalogue.js";
import type { DisclosureCatalogue } from "../core/disclosure/disclosure-catalogue.js";
import { DisclosureState } from "../core/disclosure/disclosure-state.js";
import { PublicView } from "../core/disclosure/public-view.js";
import { startDisclosureSite, type RunningDisclosureSite } from "./disclosure-site.js";

const DAY_MS = 86_400_000;
const T0 = new Date("2026-12-01T04:00:00Z");
const catalogue: Catalogue = { categories: new Map([["administrative_license", { name: "administrative_license", level: 1, sensitive: false, negative: false, sectors: ["REGIONAL"], description: "" }]]) };
const disclosure: DisclosureCatalogue = {
  maxLagWorkingDays: 7,
  categories: new Map([["administrative_license", { category: "administrative_license", kind: "licence", publicityDays: 365, label: { zh: "行政许可", en: "Administrative licence" } }]]),
};

function view(names: string[]): PublicView {
  const state = new DisclosureState();
  names.forEach((name, i) =>
    state.apply(
      `sh-credit/e${i}`,
      create(DisclosureEntrySchema, {
        entryId: `e${i}`,
        category: "administrative_license",
        subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" },
        subjectName: name,
        title: "Licence",
        decisionNumber: `n-${i}`,
        decisionDate: timestampFromDate(new Date(T0.getTime() - DAY_MS)),
        sourceDepartment: "SAMR",
        legalBasis: "Art. 1",
        action: DisclosureAction.PUBLISH,
        ownerAgency: "sh-credit",
        publishedAt: timestampFromDate(new Date(T0.getTime() + i * 1000)),
        publicityUntil: timestampFromDate(new Date(T0.getTime() + 365 * DAY_MS)),
      }),
    ),
  );
  return new PublicView(state, catalogue, disclosure, () => T0);
}

let site: RunningDisclosureSite | undefined;
afterEach(async () => {
  await site?.close();
  site = undefined;
});

describe("the disclosure site's HTTP surface", () => {
  it("refuses a listener other than loopback", async () => {
    await expect(startDisclosureSite({ listen: "0.0.0.0:0", view: view([]), pageSize: 5, requestsPerMinute: 60 })).rejects.toThrow(/127\.0\.0\.1/);
  });

  it("limits each client IP's request rate (429 with Retry-After), the limiter's clock held still", async () => {
    site = await startDisclosureSite({ listen: "127.0.0.1:0", view: view(["A"]), pageSize: 5, requestsPerMinute: 4, nowMs: () => 0 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${site.url}/`)).status);
    const refused = await fetch(`${site.url}/feed.json`);
    expect(statuses).toEqual([200, 200, 429]);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
  });

  it("is read-only: other methods than GET and HEAD get 405", async () => {
    site = await startDisclosureSite({ listen: "127.0.0.1:0", view: view(["A"]), pageSize: 5, requestsPerMinute: 600 });
    const r = await fetch(`${site.url}/`, { method: "POST", body: "x" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, HEAD");
  });

  it("sends the security headers on every response, errors included", async () => {
    site = await startDisclosureSite({ listen: "127.0.0.1:0", view: view(["A"]), pageSize: 5, requestsPerMinute: 600 });
    for (const path of ["/", "/nope", "/feed.atom", "/style.css"]) {
      const r = await fetch(`${site.url}${path}`);
      expect(r.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  it("escapes hostile text in pages and feeds", async () => {
    site = await startDisclosureSite({ listen: "127.0.0.1:0", view: view([`"><script>alert(1)</script>\u0001`]), pageSize: 5, requestsPerMinute: 600 });
    const html = await (await fetch(`${site.url}/`)).text();
    expect(html).not.toContain("<script>");
    expect(html).toContain("&#60;script&#62;alert(1)&#60;&#47;script&#62;");
    const atom = await (await fetch(`${site.url}/feed.atom`)).text();
    expect(atom).not.toContain("<script>");
    expect(atom).not.toContain("\u0001");
    const json = (await (await fetch(`${site.url}/feed.json`)).json()) as { entries: Array<{ subject: { name: string } }> };
    expect(json.entries[0]!.subject.name).toContain("<script>");
  });

  it("paginates the feeds and links the next page", async () => {
    site = await startDisclosureSite({ listen: "127.0.0.1:0", view: view(["A", "B", "C"]), pageSize: 2, requestsPerMinute: 600 });
    const first = (await (await fetch(`${site.url}/feed.json`)).json()) as { entries: Array<{ id: string }>; next: string | null; total: number };
    const second = (await (await fetch(`${site.url}${first.next!}`)).json()) as { entries: Array<{ id: string }>; next: string | null };
    expect(first.total).toBe(3);
    expect([...first.entries, ...second.entries].map((e) => e.id)).toEqual(["e2", "e1", "e0"]);
    expect(second.next).toBeNull();
    expect(await (await fetch(`${site.url}/feed.atom`)).text()).toContain('<link rel="next" href="/feed.atom?page=2"/>');
  });
});
