import type { Page, PublicEntry } from "../core/disclosure/public-view.js";
import { xml } from "./html.js";

/** The JSON feed for re-users: one page of entries, newest publication first, with the link to the next page. */
export function jsonFeed(page: Page<PublicEntry>): string {
  return `${JSON.stringify(
    {
      title: "credex public credit disclosure",
      page: page.page,
      pageSize: page.pageSize,
      pages: page.pages,
      total: page.total,
      next: page.page < page.pages ? `/feed.json?page=${page.page + 1}` : null,
      entries: page.items,
    },
    null,
    2,
  )}\n`;
}

/** The Atom feed (RFC 4287): one page of entries, newest first; ids are urn:uuid of the entry. */
export function atomFeed(page: Page<PublicEntry>): string {
  const updated = page.items[0]?.publishedAt ?? new Date(0).toISOString();
  const entries = page.items
    .map(
      (e) => `<entry>
<id>urn:uuid:${xml(e.id)}</id>
<title>${xml(`${e.label.zh} ${e.label.en}: ${e.subject.name} (${e.subject.id}) — ${e.title}`)}</title>
<updated>${xml(e.publishedAt)}</updated>
<published>${xml(e.firstPublishedAt)}</published>
<author><name>${xml(e.sourceDepartment)}</name></author>
<category term="${xml(e.category)}" label="${xml(e.label.en)}"/>
<link rel="alternate" type="text/html" href="/subject/${xml(encodeURIComponent(e.subject.id))}"/>
<summary>${xml(`${e.decisionNumber}; decided ${e.decisionDate}; legal basis: ${e.legalBasis}; public until ${e.publicityUntil.slice(0, 10)}`)}</summary>
</entry>`,
    )
    .join("\n");
  const next = page.page < page.pages ? `\n<link rel="next" href="/feed.atom?page=${page.page + 1}"/>` : "";
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>urn:credex:disclosure</id>
<title>credex public credit disclosure 信用信息公示</title>
<updated>${xml(updated)}</updated>
<link rel="self" href="/feed.atom${page.page > 1 ? `?page=${page.page}` : ""}"/>${next}
${entries}
</feed>
`;
}
