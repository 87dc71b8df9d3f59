import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { DisclosureEntry } from "../../gen/credex/v1/disclosure_pb.js";
import { SubjectType } from "../../gen/credex/v1/types_pb.js";
import type { Catalogue } from "../catalogue.js";
import { isPublicCategory, type DisclosureCatalogue, type DisclosureKind } from "./disclosure-catalogue.js";
import type { DisclosureState } from "./disclosure-state.js";
import { publicSubjectId } from "./mask-identifier.js";

/** One entry as the public sees it (site pages, JSON and Atom feeds). */
export interface PublicEntry {
  readonly id: string;
  readonly category: string;
  readonly kind: DisclosureKind;
  readonly label: { readonly zh: string; readonly en: string };
  readonly subject: { readonly type: "legal_person" | "natural_person" | "other_org"; readonly id: string; readonly name: string };
  readonly title: string;
  readonly decisionNumber: string;
  /** YYYY-MM-DD, China Standard Time. */
  readonly decisionDate: string;
  readonly publishedAt: string;
  readonly firstPublishedAt: string;
  readonly publicityUntil: string;
  readonly sourceDepartment: string;
  readonly legalBasis: string;
  /** The member of the exchange that published it. */
  readonly publisher: string;
  readonly correction?: string | undefined;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly page: number;
  readonly pageSize: number;
  readonly total: number;
  readonly pages: number;
}

export interface SubjectSummary {
  readonly id: string;
  readonly name: string;
  readonly type: PublicEntry["subject"]["type"];
  readonly entries: number;
}

const TYPE_NAMES: Record<number, PublicEntry["subject"]["type"]> = {
  [SubjectType.LEGAL_PERSON]: "legal_person",
  [SubjectType.NATURAL_PERSON]: "natural_person",
  [SubjectType.OTHER_ORG]: "other_org",
};

/**
 * What the public disclosure site may show: the feed's current entries whose
 * category is public (level 1 in the credit catalogue the site loaded, and
 * carried by the disclosure catalogue) and whose publicity period has not
 * ended. Everything the site and its feeds render goes through here.
 */
export class PublicView {
  constructor(
    private readonly state: DisclosureState,
    private readonly catalogue: Catalogue,
    private readonly disclosure: DisclosureCatalogue,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Newest publication first. */
  entries(): PublicEntry[] {
    const out: PublicEntry[] = [];
    for (const e of this.state.current(this.clock())) {
      if (!isPublicCategory(this.catalogue, this.disclosure, e.category)) continue;
      const entry = this.publicEntry(e);
      if (entry) out.push(entry);
    }
    return out.sort((a, b) => (a.publishedAt < b.publishedAt ? 1 : a.publishedAt > b.publishedAt ? -1 : a.id.localeCompare(b.id)));
  }

  /**
   * Subjects matching `query`: an exact USCC, a natural person's id number
   * (compared in its masked form: the full number is never held), or part of a
   * name or of a published (masked) id.
   */
  search(query: string): SubjectSummary[] {
    const q = query.trim().toUpperCase();
    if (q === "") return [];
    const masked = /^\d{17}[\dX]$/.test(q) ? publicSubjectId(SubjectType.NATURAL_PERSON, q) : undefined;
    const bySubject = new Map<string, SubjectSummary>();
    for (const e of this.entries()) {
      const s = e.subject;
      const hit = s.id === q || (masked !== undefined && s.type === "natural_person" && s.id === masked) || s.name.toUpperCase().includes(q) || s.id.includes(q);
      if (!hit) continue;
      const known = bySubject.get(s.id);
      bySubject.set(s.id, { id: s.id, name: known?.name ?? s.name, type: s.type, entries: (known?.entries ?? 0) + 1 });
    }
    return [...bySubject.values()].sort((a, b) => a.name.localeCompare(b.name, "zh") || a.id.localeCompare(b.id));
  }

  /** Every public entry about one subject (its USCC or masked id as published). */
  subject(id: string): PublicEntry[] {
    return this.entries().filter((e) => e.subject.id === id);
  }

  private publicEntry(e: DisclosureEntry): PublicEntry | undefined {
    const category = this.disclosure.categories.get(e.category);
    const type = TYPE_NAMES[e.subject?.type ?? 0];
    if (!category || !type || !e.subject || !e.decisionDate || !e.publishedAt || !e.publicityUntil) return undefined;
    // The gateway stores a natural person's id masked; masking again is a no-op that holds even for a record that was not.
    const id = publicSubjectId(e.subject.type, e.subject.id);
    const published = timestampDate(e.publishedAt).toISOString();
    return {
      id: e.entryId,
      category: e.category,
      kind: category.kind,
      label: category.label,
      subject: { type, id, name: e.subjectName },
      title: e.title,
      decisionNumber: e.decisionNumber,
      decisionDate: cstDate(timestampDate(e.decisionDate)),
      publishedAt: published,
      firstPublishedAt: e.firstPublishedAt ? timestampDate(e.firstPublishedAt).toISOString() : published,
      publicityUntil: timestampDate(e.publicityUntil).toISOString(),
      sourceDepartment: e.sourceDepartment,
      legalBasis: e.legalBasis,
      publisher: e.ownerAgency,
      correction: e.firstPublishedAt ? e.reason : undefined,
    };
  }
}

/** Page `page` (1-based, clamped to the pages there are) of `items`. */
export function paginate<T>(items: readonly T[], page: number, pageSize: number): Page<T> {
  const pages = Math.max(1, Math.ceil(items.length / pageSize));
  const p = Math.min(Math.max(1, Math.floor(page) || 1), pages);
  return { items: items.slice((p - 1) * pageSize, p * pageSize), page: p, pageSize, total: items.length, pages };
}

/** The calendar date in China Standard Time (UTC+8), as decisions are dated. */
export function cstDate(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}
