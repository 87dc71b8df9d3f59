import { create, clone } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CorrectionNoticeSchema,
  ObjectionLedgerSchema,
  ObjectionResolution,
  ObjectionSchema,
  ObjectionStatus,
  SealedObjectionAnswerSchema,
  type CorrectionNotice,
  type Objection,
  type ObjectionLedger,
  type SealedObjectionAnswer,
} from "../../gen/credex/v1/objections_pb.js";
import { CredexError } from "../errors.js";
import { daysLeftUntil, objectionDueAt, OBJECTION_ANSWER_DAYS } from "./answer-deadline.js";

export { daysLeftUntil, OBJECTION_ANSWER_DAYS };

/** Where the registry keeps its state (a file in the gateway's data dir: src/adapters/objections). */
export interface ObjectionStore {
  load(): Promise<ObjectionLedger>;
  /** Replaces the stored state durably before resolving. */
  save(ledger: ObjectionLedger): Promise<void>;
}

export interface ObjectionRegistryOptions {
  readonly store: ObjectionStore;
  readonly clock: () => Date;
  readonly answerDays?: number;
  /** Statutory rest days that move a deadline ending on them (answer-deadline.ts). */
  readonly restDays?: readonly string[];
}

/** A correction notice before the registry numbers it. */
export type NewCorrectionNotice = Omit<CorrectionNotice, "sequence" | "$typeName" | "$unknown">;

/** What an answer leaves besides the resolution: the owner's statement (sealed) and the notices to recipients of the record. */
export interface AnswerOutcome {
  readonly statementSealed: Uint8Array;
  readonly notices: readonly NewCorrectionNotice[];
}

/**
 * Open and answered objections; the source of the pipeline's isDisputed.
 * Every change is saved before it takes effect for callers, so a restart
 * neither forgets a dispute nor raises a deadline breach twice.
 */
export class ObjectionRegistry {
  private readonly byId = new Map<string, Objection>();
  private answers: SealedObjectionAnswer[] = [];
  private notices: CorrectionNotice[] = [];
  /** The last position given to an answer or notice (ListObjectionAnswers, ListCorrectionNotices poll after it). */
  private sequence = 0n;
  /** owner \0 record id → ids of objections keeping the record disputed. */
  private readonly disputes = new Map<string, Set<string>>();
  private saving = Promise.resolve();
  readonly answerDays: number;

  private constructor(
    private readonly store: ObjectionStore,
    readonly clock: () => Date,
    answerDays: number,
    private readonly restDays: ReadonlySet<string>,
  ) {
    this.answerDays = answerDays;
  }

  static async open(options: ObjectionRegistryOptions): Promise<ObjectionRegistry> {
    const registry = new ObjectionRegistry(options.store, options.clock, options.answerDays ?? OBJECTION_ANSWER_DAYS, new Set(options.restDays ?? []));
    const ledger = await options.store.load();
    for (const o of ledger.objections) registry.index(o);
    registry.answers = [...ledger.answers];
    registry.notices = [...ledger.notices];
    for (const { sequence } of [...ledger.answers, ...ledger.notices]) if (sequence > registry.sequence) registry.sequence = sequence;
    return registry;
  }

  /** Released records under an open objection, or answered with both statements kept, are marked disputed (Art. 25). */
  isDisputed(owner: string, recordId: string): boolean {
    return (this.disputes.get(`${owner}\u0000${recordId}`)?.size ?? 0) > 0;
  }

  /** The due date of an objection the owner received at `receivedAt` (Art. 25, counted as answer-deadline.ts says). */
  dueAt(receivedAt: Date): Date {
    return objectionDueAt(receivedAt, { days: this.answerDays, restDays: this.restDays });
  }

  /** Calendar days (CST) to the last day of the period: 0 on the last day, negative once overdue (-1 on the first day after). */
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

  /**
   * Checks that `by` may answer objection `id` now (only the owner of the
   * record, once, with a resolution) and returns it; throws the catalogued
   * refusal otherwise. resolve() checks again under its lock.
   */
  answerable(id: string, resolution: ObjectionResolution, by: string): Objection {
    const current = this.byId.get(id);
    if (!current) throw new CredexError("OBJECTION_NOT_FOUND", `no objection "${id}"`, { objection_id: id });
    if (current.ownerAgency !== by) throw new CredexError("OBJECTION_NOT_OWNER", `objection "${id}" is answered by "${current.ownerAgency}"`, { objection_id: id });
    if (current.status === ObjectionStatus.RESOLVED) throw new CredexError("OBJECTION_ALREADY_RESOLVED", undefined, { objection_id: id });
    if (resolution === ObjectionResolution.UNSPECIFIED || ObjectionResolution[resolution] === undefined) {
      throw new CredexError("OBJECTION_INVALID", "a resolution (CORRECTED, MARK_REMOVED, BOTH_STATEMENTS_KEPT, RECORD_DELETED) is required", { field: "resolution" });
    }
    return clone(ObjectionSchema, current);
  }

  /**
   * The owner's answer. CORRECTED, MARK_REMOVED (upheld) and RECORD_DELETED
   * clear the disputed mark; BOTH_STATEMENTS_KEPT keeps it. The statement for
   * the filer and the notices to the record's recipients are saved in the same
   * write as the resolution: a crash leaves the objection open with none of
   * them, or answered with all of them.
   */
  async resolve(id: string, resolution: ObjectionResolution, by: string, outcome?: AnswerOutcome): Promise<Objection> {
    let resolved: Objection | undefined;
    await this.commit(() => {
      const current = this.answerable(id, resolution, by);
      resolved = create(ObjectionSchema, { ...current, status: ObjectionStatus.RESOLVED, resolution, resolvedAt: timestampFromDate(this.clock()) });
      let sequence = this.sequence;
      const answers = [create(SealedObjectionAnswerSchema, { objectionId: id, sequence: ++sequence, statementSealed: outcome?.statementSealed ?? new Uint8Array() })];
      const notices = (outcome?.notices ?? []).map((n) => create(CorrectionNoticeSchema, { ...n, sequence: ++sequence }));
      return { objections: [resolved], answers, notices, sequence };
    });
    return clone(ObjectionSchema, resolved!);
  }

  /** Answers to objections `filer` filed, after position `after`, in order, at most `limit`. */
  answersFor(filer: string, after: bigint, limit: number): { objection: Objection; answer: SealedObjectionAnswer }[] {
    const found: { objection: Objection; answer: SealedObjectionAnswer }[] = [];
    for (const answer of this.answers) {
      if (found.length >= limit) break;
      const objection = this.byId.get(answer.objectionId);
      if (answer.sequence > after && objection?.filedBy === filer) found.push({ objection: clone(ObjectionSchema, objection), answer: clone(SealedObjectionAnswerSchema, answer) });
    }
    return found;
  }

  /** Correction notices addressed to `recipient`, after position `after`, in order, at most `limit`. */
  noticesFor(recipient: string, after: bigint, limit: number): CorrectionNotice[] {
    return this.notices
      .filter((n) => n.sequence > after && n.recipientAgency === recipient)
      .slice(0, limit)
      .map((n) => clone(CorrectionNoticeSchema, n));
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

  /**
   * Saves a change, then applies it: one change at a time, each computed
   * (when a function is given) from the state all earlier changes left.
   */
  private async commit(change: readonly Objection[] | (() => LedgerChange)): Promise<void> {
    const run = this.saving.then(async () => {
      const { objections, answers = [], notices = [], sequence = this.sequence } = typeof change === "function" ? change() : { objections: change };
      const next = new Map(this.byId);
      for (const o of objections) next.set(o.objectionId, o);
      const ledger = create(ObjectionLedgerSchema, { objections: [...next.values()], answers: [...this.answers, ...answers], notices: [...this.notices, ...notices] });
      await this.store.save(ledger);
      for (const o of objections) this.index(o);
      this.answers = ledger.answers;
      this.notices = ledger.notices;
      this.sequence = sequence;
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

interface LedgerChange {
  readonly objections: readonly Objection[];
  readonly answers?: readonly SealedObjectionAnswer[];
  readonly notices?: readonly CorrectionNotice[];
  readonly sequence?: bigint;
}

/** An in-memory store (tests, and gateways started without a data dir). */
export function createMemoryObjectionStore(): ObjectionStore & { saved: number } {
  let state = create(ObjectionLedgerSchema);
  return {
    saved: 0,
    async load() {
      return clone(ObjectionLedgerSchema, state);
    },
    async save(ledger) {
      state = clone(ObjectionLedgerSchema, ledger);
      this.saved++;
    },
  };
}
