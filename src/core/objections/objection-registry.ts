import { create, clone } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ObjectionResolution, ObjectionSchema, ObjectionStatus, type Objection } from "../../gen/credex/v1/objections_pb.js";
import { CredexError } from "../errors.js";

/**
 * Credit Investigation Regulation Art. 25: the owner checks and answers an
 * objection within 20 days of receiving it. Counted in calendar days from
 * the moment the gateway delivered it to the owner.
 */
export const OBJECTION_ANSWER_DAYS = 20;
const DAY_MS = 86_400_000;

/** Days from `now` to `due`, a started day counting as a day; negative once `due` has passed. */
export function daysLeftUntil(due: Date, now: Date): number {
  const ms = due.getTime() - now.getTime();
  return ms > 0 ? Math.ceil(ms / DAY_MS) : -Math.max(1, Math.ceil(-ms / DAY_MS));
}

/** Where the registry keeps its state (a file in the gateway's data dir: src/adapters/objections). */
export interface ObjectionStore {
  load(): Promise<Objection[]>;
  /** Replaces the stored state durably before resolving. */
  save(objections: readonly Objection[]): Promise<void>;
}

export interface ObjectionRegistryOptions {
  readonly store: ObjectionStore;
  readonly clock: () => Date;
  readonly answerDays?: number;
}

/**
 * Open and answered objections; the source of the pipeline's isDisputed.
 * Every change is saved before it takes effect for callers, so a restart
 * neither forgets a dispute nor raises a deadline breach twice.
 */
export class ObjectionRegistry {
  private readonly byId = new Map<string, Objection>();
  /** owner \0 record id → ids of objections keeping the record disputed. */
  private readonly disputes = new Map<string, Set<string>>();
  private saving = Promise.resolve();
  readonly answerDays: number;

  private constructor(
    private readonly store: ObjectionStore,
    readonly clock: () => Date,
    answerDays: number,
  ) {
    this.answerDays = answerDays;
  }

  static async open(options: ObjectionRegistryOptions): Promise<ObjectionRegistry> {
    const registry = new ObjectionRegistry(options.store, options.clock, options.answerDays ?? OBJECTION_ANSWER_DAYS);
    for (const o of await options.store.load()) registry.index(o);
    return registry;
  }

  /** Released records under an open objection, or answered with both statements kept, are marked disputed (Art. 25). */
  isDisputed(owner: string, recordId: string): boolean {
    return (this.disputes.get(`${owner}\u0000${recordId}`)?.size ?? 0) > 0;
  }

  /** The due date of an objection filed at `filedAt`. */
  dueAt(filedAt: Date): Date {
    return new Date(filedAt.getTime() + this.answerDays * DAY_MS);
  }

  /** Days left before the answer is due, a started day counting as a day; negative once overdue (-1 in the first day after). */
  daysLeft(objection: Objection, now: Date = this.clock()): number {
    return daysLeftUntil(timestampDate(objection.dueAt!), now);
  }

  get(id: string): Objection | undefined {
    const o = this.byId.get(id);
    return o && clone(ObjectionSchema, o);
  }

  list(filter: (o: Objection) => boolean = () => true): Objection[] {
    return [...this.byId.values()].filter(filter).map((o) => clone(ObjectionSchema, o));
  }

  async add(objection: Objection): Promise<void> {
    if (this.byId.has(objection.objectionId)) throw new Error(`objection ${objection.objectionId} exists`);
    await this.commit([objection]);
  }

  /** The owner's answer. CORRECTED and MARK_REMOVED clear the disputed mark; BOTH_STATEMENTS_KEPT keeps it. */
  async resolve(id: string, resolution: ObjectionResolution, by: string): Promise<Objection> {
    const current = this.byId.get(id);
    if (!current) throw new CredexError("OBJECTION_NOT_FOUND", `no objection "${id}"`, { objection_id: id });
    if (current.ownerAgency !== by) throw new CredexError("OBJECTION_NOT_OWNER", `objection "${id}" is answered by "${current.ownerAgency}"`, { objection_id: id });
    if (current.status === ObjectionStatus.RESOLVED) throw new CredexError("OBJECTION_ALREADY_RESOLVED", undefined, { objection_id: id });
    if (resolution === ObjectionResolution.UNSPECIFIED || ObjectionResolution[resolution] === undefined) {
      throw new CredexError("OBJECTION_INVALID", "a resolution (CORRECTED, MARK_REMOVED, BOTH_STATEMENTS_KEPT) is required", { field: "resolution" });
    }
    const next = create(ObjectionSchema, { ...current, status: ObjectionStatus.RESOLVED, resolution, resolvedAt: timestampFromDate(this.clock()) });
    await this.commit([next]);
    return clone(ObjectionSchema, next);
  }

  /**
   * Open objections past their due date whose breach was not raised yet:
   * marks them raised (saved) and returns them, so each breach is raised once.
   */
  async takeOverdue(now: Date = this.clock()): Promise<Objection[]> {
    const due = [...this.byId.values()].filter(
      (o) => o.status === ObjectionStatus.OPEN && o.overdueRaisedAt === undefined && timestampDate(o.dueAt!).getTime() <= now.getTime(),
    );
    if (due.length === 0) return [];
    const raised = due.map((o) => create(ObjectionSchema, { ...o, overdueRaisedAt: timestampFromDate(now) }));
    await this.commit(raised);
    return raised.map((o) => clone(ObjectionSchema, o));
  }

  private async commit(changed: readonly Objection[]): Promise<void> {
    const run = this.saving.then(async () => {
      const next = new Map(this.byId);
      for (const o of changed) next.set(o.objectionId, o);
      await this.store.save([...next.values()]);
      for (const o of changed) this.index(o);
    });
    this.saving = run.catch(() => undefined);
    await run;
  }

  private index(o: Objection): void {
    this.byId.set(o.objectionId, o);
    const key = `${o.ownerAgency}\u0000${o.recordId}`;
    const set = this.disputes.get(key) ?? new Set<string>();
    const disputes = o.status === ObjectionStatus.OPEN || o.resolution === ObjectionResolution.BOTH_STATEMENTS_KEPT;
    if (disputes) set.add(o.objectionId);
    else set.delete(o.objectionId);
    if (set.size > 0) this.disputes.set(key, set);
    else this.disputes.delete(key);
  }
}

/** An in-memory store (tests, and gateways started without a data dir). */
export function createMemoryObjectionStore(): ObjectionStore & { saved: number } {
  let state: Objection[] = [];
  return {
    saved: 0,
    async load() {
      return state.map((o) => clone(ObjectionSchema, o));
    },
    async save(objections) {
      state = objections.map((o) => clone(ObjectionSchema, o));
      this.saved++;
    },
  };
}
