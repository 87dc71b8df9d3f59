import type { Page, PublicEntry, SubjectSummary } from "../core/disclosure/public-view.js";
import { esc } from "./html.js";
import { LABELS, type Labels, type Lang } from "./labels.js";

/** A link within the site that keeps the language. */
export function href(lang: Lang, path: string, params: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  if (lang === "en") q.set("lang", "en");
  const s = q.toString();
  return s === "" ? path : `${path}?${s}`;
}

function layout(lang: Lang, title: string, body: string, query = "", languageSwitch: string = href(lang === "en" ? "zh" : "en", "/")): string {
  const t = LABELS[lang];
  return `<!doctype html>
<html lang="${t.htmlLang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · ${esc(t.site)}</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/atom+xml" title="Atom" href="/feed.atom">
<link rel="alternate" type="application/json" title="JSON" href="/feed.json">
</head>
<body>
<a class="skip" href="#main">${esc(t.skip)}</a>
<header>
<p class="site"><a href="${esc(href(lang, "/"))}">${esc(t.site)}</a></p>
<p class="lang"><a href="${esc(languageSwitch)}" lang="${lang === "en" ? "zh-Hans" : "en"}">${esc(t.otherLanguage)}</a></p>
<form role="search" method="get" action="/search">
<label for="q">${esc(t.searchLabel)}</label>
<input id="q" name="q" type="search" value="${esc(query)}" maxlength="100" autocomplete="off" aria-describedby="q-hint">
${lang === "en" ? '<input type="hidden" name="lang" value="en">' : ""}
<button type="submit">${esc(t.searchButton)}</button>
<p id="q-hint" class="hint">${esc(t.searchHint)}</p>
</form>
</header>
<main id="main">
${body}
</main>
<footer>
<p>${esc(t.rule)}</p>
<p><a href="/feed.json">JSON</a> · <a href="/feed.atom">Atom</a></p>
</footer>
</body>
</html>
`;
}

function subjectType(t: Labels, type: PublicEntry["subject"]["type"]): string {
  return type === "natural_person" ? t.naturalPerson : type === "other_org" ? t.otherOrg : t.legalPerson;
}

function pager(lang: Lang, t: Labels, path: string, params: Record<string, string>, page: Page<unknown>): string {
  if (page.pages <= 1) return "";
  const prev = page.page > 1 ? `<a rel="prev" href="${esc(href(lang, path, { ...params, page: page.page - 1 }))}">${esc(t.previous)}</a>` : "";
  const next = page.page < page.pages ? `<a rel="next" href="${esc(href(lang, path, { ...params, page: page.page + 1 }))}">${esc(t.next)}</a>` : "";
  return `<nav class="pager" aria-label="${esc(t.pagination)}">${prev} <span aria-current="page">${esc(t.page.replace("{page}", String(page.page)).replace("{pages}", String(page.pages)))}</span> ${next}</nav>`;
}

function entryTable(lang: Lang, t: Labels, caption: string, entries: readonly PublicEntry[], withSubject: boolean): string {
  if (entries.length === 0) return `<p>${esc(t.none)}</p>`;
  const head = [t.category, ...(withSubject ? [t.subject] : []), t.title, t.decisionNumber, t.decisionDate, t.publishedAt, t.source, t.legalBasis, t.publicityUntil]
    .map((h) => `<th scope="col">${esc(h)}</th>`)
    .join("");
  const rows = entries
    .map((e) => {
      const subject = withSubject
        ? `<td><a href="${esc(href(lang, `/subject/${encodeURIComponent(e.subject.id)}`))}">${esc(e.subject.name)}</a><br><span class="id">${esc(e.subject.id)}</span></td>`
        : "";
      const corrected = e.correction !== undefined ? ` <span class="tag">${esc(t.corrected)}</span>` : "";
      return `<tr data-entry="${esc(e.id)}"><td>${esc(e.label[lang])}</td>${subject}<td>${esc(e.title)}${corrected}</td><td>${esc(e.decisionNumber)}</td><td>${esc(e.decisionDate)}</td><td>${esc(e.publishedAt.slice(0, 10))}</td><td>${esc(e.sourceDepartment)}</td><td>${esc(e.legalBasis)}</td><td>${esc(e.publicityUntil.slice(0, 10))}</td></tr>`;
    })
    .join("\n");
  return `<table><caption class="sr-only">${esc(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export function homePage(lang: Lang, latest: Page<PublicEntry>): string {
  const t = LABELS[lang];
  const body = `<h1>${esc(t.site)}</h1>
<p>${esc(t.tagline)}</p>
<h2 id="latest">${esc(t.latest)}</h2>
${entryTable(lang, t, t.latest, latest.items, true)}
${pager(lang, t, "/", {}, latest)}`;
  return layout(lang, t.latest, body);
}

export function searchPage(lang: Lang, query: string, results: Page<SubjectSummary>): string {
  const t = LABELS[lang];
  const items =
    results.total === 0
      ? `<p>${esc(t.noResults)}</p>`
      : `<ul class="results">${results.items
          .map((s) => `<li><a href="${esc(href(lang, `/subject/${encodeURIComponent(s.id)}`))}">${esc(s.name)}</a> <span class="id">${esc(s.id)}</span> · ${esc(subjectType(t, s.type))} · ${s.entries} ${esc(t.entries)}</li>`)
          .join("\n")}</ul>`;
  const body = `<h1>${esc(t.results)}</h1>
<p class="query">“${esc(query)}” · ${results.total}</p>
${items}
${pager(lang, t, "/search", { q: query }, results)}`;
  return layout(lang, t.results, body, query, href(lang === "en" ? "zh" : "en", "/search", { q: query }));
}

export function subjectPage(lang: Lang, id: string, entries: readonly PublicEntry[], page: Page<PublicEntry>): string {
  const t = LABELS[lang];
  const first = entries[0];
  const name = first?.subject.name ?? id;
  const section = (heading: string, anchor: string, kind: PublicEntry["kind"]) => {
    const here = page.items.filter((e) => e.kind === kind);
    const elsewhere = entries.filter((e) => e.kind === kind).length - here.length;
    const content = here.length === 0 && elsewhere > 0 ? `<p>${esc(t.onOtherPages.replace("{n}", String(elsewhere)))}</p>` : entryTable(lang, t, heading, here, false);
    return `<section aria-labelledby="${anchor}"><h2 id="${anchor}">${esc(heading)}</h2>\n${content}</section>`;
  };
  const body = `<h1>${esc(name)}</h1>
<dl class="subject"><dt>${esc(t.subjectHeading)}</dt><dd><span class="id">${esc(id)}</span>${first ? ` · ${esc(subjectType(t, first.subject.type))}` : ""}</dd></dl>
${section(t.licences, "licences", "licence")}
${section(t.penalties, "penalties", "penalty")}
${section(t.lists, "lists", "list")}
${pager(lang, t, `/subject/${encodeURIComponent(id)}`, {}, page)}`;
  return layout(lang, name, body, "", href(lang === "en" ? "zh" : "en", `/subject/${encodeURIComponent(id)}`));
}

export function messagePage(lang: Lang, heading: string): string {
  return layout(lang, heading, `<h1>${esc(heading)}</h1>`);
}

/** One stylesheet (CSP style-src 'self'): system fonts, text contrast at least 7:1 (WCAG 2.1 AAA 1.4.6). */
export const STYLE = `*{box-sizing:border-box}
body{margin:0;font:16px/1.6 system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:#1b1b1b;background:#fff}
header,main,footer{max-width:72rem;margin:0 auto;padding:1rem}
header{border-bottom:4px solid #8c1c13}
.site{font-size:1.4rem;font-weight:700;margin:.2rem 0}
.site a{color:#8c1c13;text-decoration:none}
.lang{float:right;margin:-2.2rem 0 0}
a{color:#0b4a8b}
a:focus,button:focus,input:focus{outline:3px solid #b35c00;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
label{display:block;font-weight:600;margin-top:.5rem}
input[type=search]{font:inherit;padding:.4rem;width:min(100%,32rem);border:2px solid #555;border-radius:4px}
button{font:inherit;padding:.4rem 1rem;margin-left:.3rem;border:0;border-radius:4px;background:#8c1c13;color:#fff;cursor:pointer}
.hint{color:#454545;font-size:.9rem;margin:.3rem 0}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:1.5rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.92rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
th,td{border:1px solid #bbb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f1ece4}
.id{font-family:ui-monospace,monospace;color:#333}
.tag{background:#fff3cd;color:#3d2b00;border:1px solid #8a6d00;border-radius:3px;padding:0 .3rem;font-size:.8rem}
.pager{margin:1rem 0;display:flex;gap:1rem;align-items:center}
footer{color:#454545;font-size:.9rem;border-top:1px solid #ccc;margin-top:2rem}
`;
