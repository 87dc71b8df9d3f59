import type { ServiceError } from "@grpc/grpc-js";
import { status as GrpcStatus } from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DisclosureAction, type DisclosureEntrySchema } from "../gen/credex/v1/disclosure_pb.js";
import { errorInfoOf } from "../adapters/grpc/rich-status.js";
import type { DemoExchange, DemoStep } from "./demo-script.js";
import type { Federation } from "./federation.js";
import { DEMO_SUBJECTS } from "./synthetic-data.js";

type EntryInit = MessageInitShape<typeof DisclosureEntrySchema>;
const DAY_MS = 86_400_000;
const company = DEMO_SUBJECTS.tradingCompany;
const person = DEMO_SUBJECTS.borrower;

const daysAgo = (n: number) => timestampFromDate(new Date(Date.now() - n * DAY_MS));

/** The demo's public decisions: a licence, penalties and list entries of the trading company and one person. */
export function demoDisclosures(): Record<string, EntryInit[]> {
  return {
    "sh-credit": [
      {
        action: DisclosureAction.PUBLISH,
        category: "administrative_license",
        subject: company,
        subjectName: "上海示例贸易有限公司 (Shanghai Example Trading Co., Ltd.)",
        title: "食品经营许可证 Food business licence",
        decisionNumber: "JY13101100012345",
        decisionDate: daysAgo(2),
        sourceDepartment: "上海市市场监督管理局 Shanghai Administration for Market Regulation",
        legalBasis: "《中华人民共和国食品安全法》第三十五条",
      },
      {
        action: DisclosureAction.PUBLISH,
        category: "administrative_penalty",
        subject: company,
        subjectName: "上海示例贸易有限公司 (Shanghai Example Trading Co., Ltd.)",
        title: "罚款人民币20,000元（虚假广告） Fine of CNY 20,000 for false advertising",
        decisionNumber: "沪市监罚〔2026〕123号",
        decisionDate: daysAgo(3),
        sourceDepartment: "上海市市场监督管理局 Shanghai Administration for Market Regulation",
        legalBasis: "《中华人民共和国广告法》第五十五条",
      },
      {
        action: DisclosureAction.PUBLISH,
        category: "dishonest_debtor",
        subject: person,
        subjectName: "张三 (Zhang San)",
        title: "有履行能力而拒不履行生效法律文书确定义务 Able to perform but refused the judgment's obligation",
        decisionNumber: "(2026)沪0105执1234号",
        decisionDate: daysAgo(1),
        sourceDepartment: "上海市长宁区人民法院 Changning District People's Court, Shanghai",
        legalBasis: "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条",
      },
    ],
    csrc: [
      {
        action: DisclosureAction.PUBLISH,
        category: "administrative_penalty",
        subject: company,
        subjectName: "上海示例贸易有限公司 (Shanghai Example Trading Co., Ltd.)",
        title: "警告并罚款人民币500,000元（信息披露违法） Warning and fine of CNY 500,000 for disclosure violations",
        decisionNumber: "〔2026〕沪证监罚字88号",
        // Published three weeks after the decision: past the 7 working days, an incident for csrc.
        decisionDate: daysAgo(21),
        sourceDepartment: "中国证券监督管理委员会上海监管局 CSRC Shanghai Bureau",
        legalBasis: "《中华人民共和国证券法》第一百九十七条",
      },
    ],
  };
}

function row(title: string, requester: string, categories: string[], outcome: string, started: number, asExpected: boolean): DemoExchange {
  return { title, requester, purpose: "DISCLOSURE", categories, outcome, perAgency: "", latencyMs: performance.now() - started, asExpected };
}

async function attempt(f: Federation, title: string, agency: string, entries: EntryInit[], expect: string): Promise<{ row: DemoExchange; ids: string[] }> {
  const started = performance.now();
  const categories = [...new Set(entries.map((e) => e.category ?? ""))];
  try {
    const r = await f.client(agency).publishDisclosures({ entries });
    const withdrawn = entries.every((e) => e.action === DisclosureAction.WITHDRAW);
    const outcome = withdrawn ? `withdrawn ${r.entryIds.length}` : `published ${r.entryIds.length} (lag ${r.lagWorkingDays.join(", ")} working days)`;
    return { row: row(title, agency, categories, outcome, started, expect === "OK"), ids: r.entryIds };
  } catch (err) {
    const e = err as ServiceError;
    const reason = errorInfoOf(e)?.reason ?? "";
    return { row: row(title, agency, categories, `${GrpcStatus[e.code] ?? e.code} ${reason}`.trim(), started, reason === expect), ids: [] };
  }
}

/** Publication to the public disclosure feed (双公示), the refusals, a late entry's incident, credit repair. */
export const DISCLOSURE_STEPS: readonly DemoStep[] = [
  {
    title: "public disclosure",
    run: async (f) => {
      const d = demoDisclosures();
      const local = await attempt(f, "regional platform publishes a licence, a penalty and a dishonest-debtor entry (双公示)", "sh-credit", d["sh-credit"]!, "OK");
      const late = await attempt(f, "securities regulator publishes a penalty 3 weeks after the decision: incident disclosure-late", "csrc", d["csrc"]!, "OK");
      const level2 = await attempt(f, "regional platform tries to publish tax arrears (level 2) to the public feed", "sh-credit", [{ ...d["sh-credit"]![1]!, category: "tax_arrears" }], "DISCLOSURE_NOT_PUBLIC");
      const notOwner = await attempt(f, "securities regulator tries to publish a dishonest-debtor entry (owned by regional platforms)", "csrc", [{ ...d["sh-credit"]![2]! }], "DISCLOSURE_NOT_OWNER");
      const personEntry = local.ids[2];
      const repair = personEntry
        ? await attempt(f, "…the debtor paid: the court's entry is withdrawn early (credit repair)", "sh-credit", [{ action: DisclosureAction.WITHDRAW, category: "dishonest_debtor", entryId: personEntry, reason: "obligation fulfilled (credit repair)" }], "OK")
        : { row: row("…the debtor's entry is withdrawn (credit repair)", "sh-credit", ["dishonest_debtor"], "not run: the entry was not published", performance.now(), false), ids: [] };
      return [local.row, late.row, level2.row, notOwner.row, repair.row];
    },
  },
];
