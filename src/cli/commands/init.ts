/**
 * `credex init`: lays out a gateway directory that `credex gateway start` runs as it is —
 * a CA directory with the gateway's certificate and, per agency given, its client and
 * provider certificates; a copy of the default policies to edit; a sealed-audit key ring;
 * and gateway.yaml with the real paths. The operator's guide (docs/operator-guide.md) walks
 * from here to a production deployment.
 */
import { cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import { generateKeyRing, serializeKeyRing } from "../../core/audit/key-ring.js";
import { validateUscc } from "../../core/identifiers/uscc.js";
import { SECTORS } from "../../core/catalogue.js";
import { loadCatalogue } from "../../config/catalogue-file.js";
import { packageRoot } from "../../config/package-root.js";
import { parseCommandArgs, requireOption, UsageError, type CliCommand } from "../command.js";

const HELP = `usage: credex init --dir <dir> [--trust-domain <td>] [--listen <host:port>] [--instance <id>]
                   [--agency <id>,<SECTOR>,<USCC>,<provider host:port>]... [--passphrase-file <file>]
                   [--key-bits N]

Creates a gateway directory that \`credex gateway start --config <dir>/gateway.yaml\` starts
as it is, in production mode:

  <dir>/pki/             a CA directory (as \`credex pki init\`): root and issuing CA, CRLs,
                         issued/gateway.crt + .key, and per --agency issued/<id>.crt + .key
                         (its client certificate) and issued/<id>-provider.crt + .key (the
                         server certificate of its provider endpoint)
  <dir>/policies/        a copy of the default policies (model, policy.csv, catalogue, lists)
  <dir>/audit/           key-ring.json (0600): the audit's sealing keys; officers get a copy
  <dir>/gateway.yaml     the configuration, every path real; edit it, then start

Refuses a directory that is not empty. Keys are written 0600; with --passphrase-file the CA
keys are encrypted (keep root-ca.key offline once the issuing CA exists).

  --trust-domain  SPIFFE trust domain of the certificates (default credex.example)
  --listen        the gateway's address (default 127.0.0.1:7443)
  --instance      this replica's name in its audit chain (default gw-1)
  --agency        a member: id, sector (${SECTORS.join(", ")}), USCC
                  (GB 32100-2015) and where its provider listens; repeatable. Its
                  registry entry lists the catalogue's categories owned by its sector,
                  clearance 3 and protection level 3 (edit gateway.yaml to change them).
  --key-bits      RSA key size (default 3072, the minimum for CA keys)

example:
  credex init --dir /tmp/gw --agency pbccrc,BANKING,121000007178005741,127.0.0.1:7601
  credex gateway start --config /tmp/gw/gateway.yaml
`;

interface AgencyArg {
  readonly id: string;
  readonly sector: string;
  readonly uscc: string;
  readonly provider: string;
}

function agencyOf(value: string): AgencyArg {
  const parts = value.split(",");
  if (parts.length !== 4) throw new UsageError(`--agency ${value}: expected <id>,<SECTOR>,<USCC>,<provider host:port>`);
  const [id, sector, uscc, provider] = parts.map((p) => p.trim()) as [string, string, string, string];
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) throw new UsageError(`--agency ${value}: id "${id}" must be lowercase letters, digits and '-'`);
  if (!(SECTORS as readonly string[]).includes(sector)) throw new UsageError(`--agency ${value}: sector "${sector}" is not one of ${SECTORS.join(", ")}`);
  const check = validateUscc(uscc);
  if (!check.ok) throw new UsageError(`--agency ${value}: "${uscc}" is not a valid USCC (GB 32100-2015): ${check.problem}`);
  if (!/^[^\s:]+:\d{1,5}$/.test(provider)) throw new UsageError(`--agency ${value}: provider "${provider}" is not host:port`);
  return { id, sector, uscc, provider };
}

/** The catalogue's categories whose owners include the sector (the registry names what an agency provides). */
function categoriesOwnedBy(sector: string, catalogueFile: string): string[] {
  return [...loadCatalogue(catalogueFile).categories.values()].filter((c) => c.sectors.includes(sector)).map((c) => c.name);
}

async function assertEmpty(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw new UsageError(`cannot use --dir ${dir}: ${err.code ?? err.message}`);
  });
  if (entries.length > 0) throw new UsageError(`--dir ${dir} is not empty (init never overwrites a gateway directory)`);
}

export const command: CliCommand = {
  name: "init",
  summary: "lay out a gateway directory (CA, certificates, key ring, policies, config) ready to start",
  help: HELP,
  async run(argv) {
    const args = parseCommandArgs(this, argv, {
      dir: { type: "string" },
      "trust-domain": { type: "string" },
      listen: { type: "string" },
      instance: { type: "string" },
      agency: { type: "string", multiple: true },
      "passphrase-file": { type: "string" },
      "key-bits": { type: "string" },
    });
    if (!args) return 0;
    const v = args.values;
    const dir = resolve(requireOption(v.dir, "dir"));
    const trustDomain = v["trust-domain"] ?? "credex.example";
    const listen = v.listen ?? "127.0.0.1:7443";
    if (!/^[^\s:]+:\d{1,5}$/.test(listen)) throw new UsageError(`--listen ${listen} is not host:port`);
    const instance = v.instance ?? "gw-1";
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(instance)) throw new UsageError(`--instance ${instance}: letters, digits, '.', '_' and '-', at most 64`);
    const keyBits = v["key-bits"] === undefined ? 3072 : Number(v["key-bits"]);
    if (!Number.isInteger(keyBits) || keyBits < 3072 || keyBits > 8192) throw new UsageError("--key-bits must be an integer from 3072 to 8192");
    const agencies = (v.agency ?? []).map(agencyOf);
    if (new Set(agencies.map((a) => a.id)).size !== agencies.length) throw new UsageError("--agency lists an id twice");
    await assertEmpty(dir);

    let passphrase: string | undefined;
    if (v["passphrase-file"] !== undefined) {
      const file = v["passphrase-file"];
      const text = await readFile(file, "utf8").catch(() => {
        throw new UsageError(`cannot read --passphrase-file ${file}`);
      });
      passphrase = text.replace(/\r?\n$/, "");
      if (passphrase.length < 8) throw new UsageError("the passphrase must have at least 8 characters");
    }

    // node-forge loads only for the commands that use the CA.
    const { caPaths, initCaDirectory, issueIntoDirectory } = await import("../../adapters/pki/ca-directory.js");
    const { writePrivateFile } = await import("../../adapters/pki/pem-files.js");
    const pkiDir = join(dir, "pki");
    const session = passphrase !== undefined ? { passphrase } : {};
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await initCaDirectory(pkiDir, { trustDomain, keyBits, ...session });
    await issueIntoDirectory(pkiDir, { kind: "gateway", name: "gateway", days: 365, keyBits }, session);
    for (const a of agencies) {
      await issueIntoDirectory(pkiDir, { kind: "agency", name: a.id, sector: a.sector, uscc: a.uscc, organization: a.id, days: 365, keyBits }, session);
      await issueIntoDirectory(pkiDir, { kind: "provider", name: `${a.id}-provider`, id: a.id, organization: a.id, days: 365, keyBits }, session);
    }

    await cp(join(packageRoot(), "policies"), join(dir, "policies"), { recursive: true });
    await mkdir(join(dir, "audit"), { recursive: true, mode: 0o700 });
    await writePrivateFile(join(dir, "audit", "key-ring.json"), serializeKeyRing(generateKeyRing("k1")));

    const p = caPaths("pki");
    const config = {
      mode: "production",
      instance,
      trustDomain,
      listen,
      tls: { cert: p.issuedCert("gateway"), key: p.issuedKey("gateway"), ca: p.bundle, crl: [p.rootCrl, p.crl], minVersion: "TLSv1.3", watch: true },
      policy: { model: "policies/model.conf", policy: "policies/policy.csv", categories: "policies/categories.yaml" },
      agencies: agencies.map((a) => ({
        id: a.id,
        name: a.id,
        sector: a.sector,
        uscc: a.uscc,
        provider: a.provider,
        categories: categoriesOwnedBy(a.sector, join(dir, "policies", "categories.yaml")),
        clearance: 3,
        protectionLevel: 3,
      })),
      audit: { sink: "file", file: "audit/audit.log", chainState: "audit/chain-state.json", keyRing: "audit/key-ring.json", suite: "AES-256-GCM" },
    };
    const header =
      "# Written by `credex init`. Relative paths are read from this file's folder.\n" +
      "# Every key is described in deploy/gateway.example.yaml and the README's configuration section.\n";
    await writeFile(join(dir, "gateway.yaml"), `${header}${stringifyYaml(config)}`, { mode: 0o640 });

    const out = (s: string) => process.stdout.write(`${s}\n`);
    out(`credex init: a gateway directory in ${dir}`);
    out(`  CA and certificates   ${pkiDir} (trust domain ${trustDomain})`);
    for (const a of agencies) out(`  agency ${a.id.padEnd(14)} client ${join(pkiDir, "issued", `${a.id}.crt`)}; provider ${join(pkiDir, "issued", `${a.id}-provider.crt`)} at ${a.provider}`);
    out(`  audit key ring        ${join(dir, "audit", "key-ring.json")} (0600)`);
    out(`  configuration         ${join(dir, "gateway.yaml")}`);
    out("");
    out("next:");
    out(`  credex gateway start --config ${join(dir, "gateway.yaml")}`);
    out(`  credex pki issue --dir ${pkiDir} --agency <id> --sector <SECTOR> --uscc <USCC>   # another member, then add it to gateway.yaml`);
    out("  docs/operator-guide.md walks from here to production (Kafka audit, admin listener, rotation).");
    return 0;
  },
};
