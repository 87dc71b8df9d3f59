/**
 * `credex pki`: certificate lifecycle for operators (init, issue, renew,
 * revoke, crl, list, inspect) over a CA directory (layout in
 * src/adapters/pki/ca-directory.ts). Every operation that reaches the CA
 * directory is recorded in its operations.log, refusals included.
 */
import { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { isAdminRole, ADMIN_ROLES } from "../../core/admin-role.js";
import { validateUscc } from "../../core/identifiers/uscc.js";
import { SECTORS } from "../../core/catalogue.js";
import { describePeerCertificate } from "../../core/peer-certificate.js";
import { pemCertificateBlocks } from "../../core/pem-certificates.js";
import { KAFKA_TLS_OPTIONS, kafkaTlsFromFlags } from "../kafka-tls-flags.js";
import type { KafkaTlsFiles } from "../../config/kafka-tls-files.js";
import type { CaIndex, IssueProfile, OperationRecord } from "../../adapters/pki/ca-directory.js";
import type { RevocationReason } from "../../adapters/pki/crl.js";
import { parseCommandArgs, requireOption, UsageError, type CliCommand } from "../command.js";

/** node-forge takes ≈100 ms to load: only subcommands that use the CA load it, not `credex --help`. */
const caDirectory = () => import("../../adapters/pki/ca-directory.js");

const DEFAULT_DIR = "credex-ca";
const DIR_HELP = `  --dir <ca-dir>            CA directory (default: $CREDEX_CA_DIR, else ./${DEFAULT_DIR})`;
const PASS_HELP = "  --passphrase-file <file>  file holding the CA key passphrase (when init used one)";
const REASONS = ["keyCompromise", "superseded", "cessationOfOperation", "affiliationChanged"] as const;

interface Sub {
  name: string;
  summary: string;
  help: string;
  run(argv: string[]): Promise<number>;
}

const out = (text: string) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);

function dirOf(value: string | undefined): string {
  return value ?? process.env["CREDEX_CA_DIR"] ?? DEFAULT_DIR;
}

async function readPassphrase(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  const info = await stat(file).catch(() => {
    throw new UsageError(`cannot read --passphrase-file ${file}`);
  });
  if ((info.mode & 0o077) !== 0) process.stderr.write(`credex pki: warning: ${file} is readable by group or others (chmod 600 it)\n`);
  const passphrase = (await readFile(file, "utf8")).replace(/\r?\n$/, "");
  if (passphrase.length < 8) throw new UsageError("the passphrase must have at least 8 characters");
  return passphrase;
}

function positiveInt(value: string | undefined, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return Number(value);
}

/**
 * Runs an operation on the CA directory and records it in operations.log:
 * CaOperationError is a refusal (printed as a usage error, exit 2), anything else a failure.
 */
async function recorded<T>(dir: string, base: Omit<OperationRecord, "outcome">, fn: () => Promise<T>, describe: (r: T) => Partial<OperationRecord>): Promise<T> {
  const { CaOperationError, caPaths, logOperation } = await caDirectory();
  const canLog = async () => stat(caPaths(dir).index).then(() => true, () => false);
  try {
    const result = await fn();
    await logOperation(dir, { ...base, ...describe(result), outcome: "ok" });
    return result;
  } catch (err) {
    const refused = err instanceof CaOperationError || err instanceof UsageError;
    if (await canLog()) await logOperation(dir, { ...base, outcome: refused ? "refused" : "failed", detail: (err as Error).message });
    if (err instanceof CaOperationError) throw new UsageError(err.message);
    throw err;
  }
}

const init: Sub = {
  name: "init",
  summary: "create the root and issuing CA in a new CA directory",
  help: `usage: credex pki init [--dir <ca-dir>] [--trust-domain <td>] [--passphrase-file <file>] [--key-bits N]

Creates root-ca.crt/.key (10 years), issuing-ca.crt/.key (5 years, pathLen 0),
ca-bundle.pem, issued/, index.json, empty crl.pem (issuing CA) and root-crl.pem
(root, 365 days) and operations.log.
Keys are RSA (at least 3072 bits), written 0600; with --passphrase-file they
are encrypted PKCS#8 PEM (AES-256-CBC) and every signing command needs the file.
The root key is needed again only to re-sign root-crl.pem (crl --root, yearly)
or to re-issue the issuing CA: move root-ca.key to offline storage after init.

${DIR_HELP}
  --trust-domain <td>       SPIFFE trust domain of the exchange (default credex.local)
${PASS_HELP}
  --key-bits N              CA key size (default 3072, minimum 3072)

example: credex pki init --dir /srv/credex-ca --trust-domain exchange.example --passphrase-file ~/.ca-pass`,
  async run(argv) {
    const parsed = parseCommandArgs({ name: "pki init", help: this.help }, argv, {
      dir: { type: "string" },
      "trust-domain": { type: "string" },
      "passphrase-file": { type: "string" },
      "key-bits": { type: "string" },
    });
    if (!parsed) return 0;
    const { initCaDirectory, CaOperationError, caPaths } = await caDirectory();
    const v = parsed.values;
    const dir = dirOf(v.dir);
    const passphrase = await readPassphrase(v["passphrase-file"]);
    const keyBits = positiveInt(v["key-bits"], "key-bits", 3072, 3072, 8192);
    const trustDomain = v["trust-domain"] ?? "credex.local";
    const index = await recorded(
      dir,
      { operation: "init" },
      async () => {
        try {
          return await initCaDirectory(dir, { trustDomain, passphrase, keyBits });
        } catch (err) {
          if (err instanceof RangeError) throw new CaOperationError(err.message);
          throw err;
        }
      },
      (i) => ({ detail: `trust domain ${i.trustDomain}, ${keyBits}-bit keys${i.keysEncrypted ? ", encrypted" : ""}` }),
    );
    out(`initialised CA in ${dir} (trust domain ${index.trustDomain}${index.keysEncrypted ? ", keys encrypted" : ""})`);
    out(`  trust bundle: ${caPaths(dir).bundle}`);
    return 0;
  },
};

const issue: Sub = {
  name: "issue",
  summary: "issue an agency, gateway, provider or admin certificate",
  help: `usage: credex pki issue --agency <id> --sector <sector> --uscc <code> [--org <name>] [options]
       credex pki issue --gateway [--name <name>] [--dns <name>]... [options]
       credex pki issue --provider <id> [--name <name>] [--org <name>] [--dns <name>]... [options]
       credex pki issue --admin <name> --role system|security|audit [options]

Writes issued/<name>.crt (leaf then issuing CA) and issued/<name>.key (0600). The name
is the agency id, the admin name, --name for a gateway (default gateway) and for a
provider (default <id>-provider, beside the agency's client certificate issued/<id>.crt).
Identity is the URI SAN spiffe://<td>/agency/<id>, /gateway, /provider/<id> or
/admin/<role>/<name>. Agency certificates carry the Unified Social Credit Code
(subject serialNumber, checked per GB 32100-2015) and the sector (OU), spelt as
the gateway's registry spells it: ${SECTORS.join(", ")}.

${DIR_HELP}
  --days N                  validity (default 365)
  --key-bits N              RSA key size (default 3072, minimum 2048)
${PASS_HELP}

examples:
  credex pki issue --agency pboc-crc --sector BANKING --uscc 91310110666007217T
  credex pki issue --admin alice --role security`,
  async run(argv) {
    const parsed = parseCommandArgs({ name: "pki issue", help: this.help }, argv, {
      dir: { type: "string" },
      agency: { type: "string" },
      gateway: { type: "boolean" },
      provider: { type: "string" },
      admin: { type: "string" },
      name: { type: "string" },
      sector: { type: "string" },
      uscc: { type: "string" },
      org: { type: "string" },
      role: { type: "string" },
      dns: { type: "string", multiple: true },
      days: { type: "string" },
      "key-bits": { type: "string" },
      "passphrase-file": { type: "string" },
    });
    if (!parsed) return 0;
    const { issueIntoDirectory, caPaths } = await caDirectory();
    const v = parsed.values;
    const dir = dirOf(v.dir);
    const kinds = [v.agency !== undefined, v.gateway === true, v.provider !== undefined, v.admin !== undefined].filter(Boolean).length;
    if (kinds !== 1) throw new UsageError("give exactly one of --agency <id>, --gateway, --provider <id>, --admin <name>");
    const days = positiveInt(v.days, "days", 365, 1, 3650);
    const keyBits = positiveInt(v["key-bits"], "key-bits", 3072, 2048, 8192);
    let profile: IssueProfile;
    if (v.agency !== undefined) {
      profile = { kind: "agency", name: v.agency, sector: requireOption(v.sector, "sector"), uscc: requireOption(v.uscc, "uscc"), days, keyBits };
      if (v.org !== undefined) profile.organization = v.org;
    } else if (v.gateway) {
      profile = { kind: "gateway", name: v.name ?? "gateway", days, keyBits };
    } else if (v.provider !== undefined) {
      // Its own name in the directory, so it never collides with the agency's client certificate.
      profile = { kind: "provider", name: v.name ?? `${v.provider}-provider`, id: v.provider, days, keyBits };
      if (v.org !== undefined) profile.organization = v.org;
    } else {
      const role = requireOption(v.role, "role");
      if (!isAdminRole(role)) throw new UsageError(`--role must be one of ${ADMIN_ROLES.join(", ")}`);
      profile = { kind: "admin", name: v.admin!, role, days, keyBits };
    }
    if (v.dns && v.dns.length > 0) {
      if (profile.kind !== "gateway" && profile.kind !== "provider") throw new UsageError("--dns is for --gateway and --provider");
      profile.dnsNames = v.dns;
    }
    const passphrase = await readPassphrase(v["passphrase-file"]);
    const entry = await recorded(
      dir,
      { operation: `issue ${profile.kind}`, name: profile.name },
      async () => {
        // Checked here, before any key is decrypted, so that the refusal is logged with its reason.
        if (profile.uscc !== undefined) {
          const check = validateUscc(profile.uscc);
          if (!check.ok) throw new UsageError(`--uscc ${profile.uscc} is not a valid Unified Social Credit Code (GB 32100-2015): ${check.problem}`);
        }
        // The gateway compares OU with the registry's sector as spelt there: any other spelling would never authenticate.
        if (profile.sector !== undefined && !(SECTORS as readonly string[]).includes(profile.sector)) {
          throw new UsageError(`--sector ${profile.sector} is not a member type (one of: ${SECTORS.join(", ")})`);
        }
        return issueIntoDirectory(dir, profile, { passphrase });
      },
      (e) => ({ serial: e.serial }),
    );
    const p = caPaths(dir);
    out(`issued ${entry.kind} certificate "${entry.name}" serial ${entry.serial}, valid until ${entry.notAfter}`);
    out(`  identity: ${entry.spiffeId}`);
    out(`  cert: ${p.issuedCert(entry.name)}`);
    out(`  key:  ${p.issuedKey(entry.name)}`);
    return 0;
  },
};

const renew: Sub = {
  name: "renew",
  summary: "re-issue a certificate with a new key and the same profile",
  help: `usage: credex pki renew <name> [--days N] [--revoke-old] [--install-cert <file> --install-key <file>]
                         [--dir <ca-dir>] [--passphrase-file <file>]

Issues a new key and certificate for <name> with the profile of its newest
certificate and replaces issued/<name>.crt/.key. The previous certificate stays
valid until it expires, so peers can switch without downtime, unless
--revoke-old revokes it (reason superseded) and publishes a new CRL.
A revoked certificate is not renewed: issue a new one.

This is how a gateway's certificate is renewed: the gateway never holds the
CA key. With --install-cert and --install-key the new key, then the new
certificate, replace the files a server loads (each in one rename); a gateway
or reference agency watching them loads the new pair at once.

${DIR_HELP}
  --days N                  validity of the new certificate (default: as before)
  --revoke-old              revoke the previous certificate as superseded
  --install-cert <file>     also write the new certificate (chain) over <file> (0644)
  --install-key <file>      also write the new key over <file> (0600); both or neither
${PASS_HELP}

examples:
  credex pki renew pboc-crc --revoke-old
  credex pki renew gateway --install-cert /etc/credex/tls/gateway.crt --install-key /etc/credex/tls/gateway.key`,
  async run(argv) {
    const parsed = parseCommandArgs(
      { name: "pki renew", help: this.help },
      argv,
      {
        dir: { type: "string" },
        days: { type: "string" },
        "revoke-old": { type: "boolean" },
        "install-cert": { type: "string" },
        "install-key": { type: "string" },
        "passphrase-file": { type: "string" },
      },
      true,
    );
    if (!parsed) return 0;
    const { renewInDirectory, caPaths } = await caDirectory();
    if (parsed.positionals.length !== 1) throw new UsageError("give the name of the certificate to renew");
    const name = parsed.positionals[0]!;
    const v = parsed.values;
    if ((v["install-cert"] === undefined) !== (v["install-key"] === undefined)) throw new UsageError("give both --install-cert and --install-key, or neither");
    const dir = dirOf(v.dir);
    const passphrase = await readPassphrase(v["passphrase-file"]);
    const options: { passphrase: string | undefined; revokeOld: boolean; days?: number } = { passphrase, revokeOld: v["revoke-old"] === true };
    if (v.days !== undefined) options.days = positiveInt(v.days, "days", 365, 1, 3650);
    const { entry, previous } = await recorded(
      dir,
      { operation: "renew", name },
      () => renewInDirectory(dir, name, options),
      (r) => ({ serial: r.entry.serial, detail: `renews ${r.previous.serial}${options.revokeOld ? " (revoked as superseded)" : ""}` }),
    );
    out(`renewed "${name}": serial ${entry.serial}, valid until ${entry.notAfter}`);
    out(`  previous serial ${previous.serial} ${previous.revokedAt ? "revoked (superseded)" : `stays valid until ${previous.notAfter}`}`);
    const installCert = v["install-cert"];
    const installKey = v["install-key"];
    if (installCert !== undefined && installKey !== undefined) {
      const { replaceFileAtomically } = await import("../../adapters/pki/pem-files.js");
      const p = caPaths(dir);
      // Key first: until the certificate follows, a watching server refuses the mismatched pair and keeps serving the old one.
      await replaceFileAtomically(installKey, await readFile(p.issuedKey(name)), 0o600);
      await replaceFileAtomically(installCert, await readFile(p.issuedCert(name)), 0o644);
      out(`  installed: ${installCert}, ${installKey}`);
    }
    return 0;
  },
};

const revoke: Sub = {
  name: "revoke",
  summary: "revoke a certificate by serial and publish a new CRL",
  help: `usage: credex pki revoke --serial <hex> --reason <reason> [--dir <ca-dir>] [--passphrase-file <file>]
                         [--publish (--brokers <host:port,...> [--topic <t>] | --control-file <file>)]

Marks the certificate revoked in index.json and re-signs crl.pem at once
(RFC 5280 §5.3.1 reason code in the entry). With --publish it also sends a
revocation item signed by the issuing CA key on the control topic
(credex.control.v1, compacted): every gateway replica consuming it refuses
the certificate on its next call, on connections already open too.

reasons: ${REASONS.join(", ")}

${DIR_HELP}
  --serial <hex>            serial number as shown by list or inspect (colons allowed)
  --reason <reason>         why (required)
${PASS_HELP}
  --publish                 announce the revocation on the control channel
  --brokers <list>          Kafka brokers of the control topic (default: $KAFKA_BROKERS)
  --kafka-ca <pem>          Kafka over TLS (all three): CA bundle of the brokers,
  --kafka-cert <pem>        the publisher's client certificate (chain)
  --kafka-key <pem>         and its key
  --topic <topic>           control topic (default credex.control.v1)
  --control-file <file>     file control channel instead of Kafka (gateway config control.file)

examples:
  credex pki revoke --serial 3f2a…c1 --reason keyCompromise
  credex pki revoke --serial 3f2a…c1 --reason keyCompromise --publish --brokers kafka-1:9092`,
  async run(argv) {
    const parsed = parseCommandArgs({ name: "pki revoke", help: this.help }, argv, {
      dir: { type: "string" },
      serial: { type: "string" },
      reason: { type: "string" },
      "passphrase-file": { type: "string" },
      publish: { type: "boolean" },
      brokers: { type: "string" },
      ...KAFKA_TLS_OPTIONS,
      topic: { type: "string" },
      "control-file": { type: "string" },
    });
    if (!parsed) return 0;
    const { revokeInDirectory, caPaths } = await caDirectory();
    const { REVOCATION_REASONS } = await import("../../adapters/pki/crl.js");
    const v = parsed.values;
    const dir = dirOf(v.dir);
    const serial = requireOption(v.serial, "serial");
    const reason = requireOption(v.reason, "reason");
    if (!(REASONS as readonly string[]).includes(reason)) throw new UsageError(`--reason must be one of ${REASONS.join(", ")}`);
    const publishTo = controlTarget(v);
    const passphrase = await readPassphrase(v["passphrase-file"]);
    const entry = await recorded(
      dir,
      { operation: "revoke", serial, detail: reason },
      () => revokeInDirectory(dir, serial, reason as RevocationReason, { passphrase }),
      (e) => ({ name: e.name, serial: e.serial, detail: `${reason} (CRL reason code ${REVOCATION_REASONS[reason as RevocationReason]})` }),
    );
    out(`revoked "${entry.name}" serial ${entry.serial} (${reason}); CRL updated: ${caPaths(dir).crl}`);
    if (publishTo) {
      const where = await recorded(
        dir,
        { operation: "publish revocation", serial: entry.serial, name: entry.name },
        () => publishRevocation(dir, publishTo, { serial: entry.serial, reason, revokedAt: new Date(entry.revokedAt!) }, passphrase),
        (d) => ({ detail: d }),
      );
      out(`published the revocation on ${where}`);
    }
    return 0;
  },
};

const crl: Sub = {
  name: "crl",
  summary: "re-sign the certificate revocation list (or the root's, with --root)",
  help: `usage: credex pki crl [--days N] [--root] [--dir <ca-dir>] [--passphrase-file <file>]

Signs a new X.509 v2 CRL (RFC 5280) with every revoked certificate, a higher
cRLNumber and nextUpdate N days ahead, into crl.pem. Run it before nextUpdate
passes (e.g. daily from cron): relying parties treat a stale CRL as a failure.

With --root it re-signs root-crl.pem instead (the root's CRL over CA
certificates, default 365 days), which needs root-ca.key. Verifiers that
check the whole chain (Node's tls \`crl\` option) need both files:
crl: [root-crl.pem, crl.pem].

${DIR_HELP}
  --days N                  nextUpdate in days (default 7; with --root 365)
  --root                    re-sign root-crl.pem with the root key
${PASS_HELP}

example: credex pki crl --days 2`,
  async run(argv) {
    const parsed = parseCommandArgs({ name: "pki crl", help: this.help }, argv, {
      dir: { type: "string" },
      days: { type: "string" },
      root: { type: "boolean" },
      "passphrase-file": { type: "string" },
    });
    if (!parsed) return 0;
    const { publishCrl, publishRootCrl, caPaths, ROOT_CRL_DAYS } = await caDirectory();
    const v = parsed.values;
    const dir = dirOf(v.dir);
    const passphrase = await readPassphrase(v["passphrase-file"]);
    if (v.root) {
      const days = positiveInt(v.days, "days", ROOT_CRL_DAYS, 1, 3650);
      const r = await recorded(dir, { operation: "crl root" }, () => publishRootCrl(dir, { passphrase, days }), (x) => ({ detail: `cRLNumber ${x.crlNumber}` }));
      out(`wrote ${caPaths(dir).rootCrl}: cRLNumber ${r.crlNumber}, next update in ${days} day(s)`);
      return 0;
    }
    const days = positiveInt(v.days, "days", 7, 1, 365);
    const r = await recorded(dir, { operation: "crl" }, () => publishCrl(dir, { passphrase, days }), (x) => ({ detail: `cRLNumber ${x.crlNumber}, ${x.revoked} revoked` }));
    out(`wrote ${caPaths(dir).crl}: cRLNumber ${r.crlNumber}, ${r.revoked} revoked certificate(s), next update in ${days} day(s)`);
    return 0;
  },
};

type ControlTarget = { kind: "kafka"; brokers: string; tls: KafkaTlsFiles | undefined; topic: string } | { kind: "file"; file: string };

function controlTarget(v: {
  publish?: boolean | undefined;
  brokers?: string | undefined;
  topic?: string | undefined;
  "control-file"?: string | undefined;
  "kafka-ca"?: string | undefined;
  "kafka-cert"?: string | undefined;
  "kafka-key"?: string | undefined;
}): ControlTarget | undefined {
  const tls = kafkaTlsFromFlags(v);
  if (!v.publish) {
    if (v.brokers !== undefined || v.topic !== undefined || v["control-file"] !== undefined || tls) throw new UsageError("--brokers, --kafka-*, --topic and --control-file go with --publish");
    return undefined;
  }
  if (v["control-file"] !== undefined) {
    if (v.brokers !== undefined || v.topic !== undefined || tls) throw new UsageError("give either --control-file or --brokers (with --kafka-*), not both");
    return { kind: "file", file: v["control-file"] };
  }
  const brokers = v.brokers ?? process.env["KAFKA_BROKERS"];
  if (!brokers) throw new UsageError("--publish needs --brokers <host:port,...> (or $KAFKA_BROKERS) or --control-file <file>");
  return { kind: "kafka", brokers, tls, topic: v.topic ?? "credex.control.v1" };
}

/** Signs a revocation item with the issuing CA key and publishes it; resolves to where it went. */
async function publishRevocation(dir: string, target: ControlTarget, notice: { serial: string; reason: string; revokedAt: Date }, passphrase: string | undefined): Promise<string> {
  const { loadControlSigner } = await import("../../adapters/pki/control-signer.js");
  const { signControlItem, encodeControlItem, controlItemKey } = await import("../../core/control/control-item.js");
  const { revocationItem } = await import("../../core/control/revocation-item.js");
  const signer = await loadControlSigner(dir, passphrase);
  const item = signControlItem(revocationItem(notice), signer.certificate, signer.key);
  const channel =
    target.kind === "kafka"
      ? (await import("../../adapters/kafka/kafka-control-channel.js")).createKafkaControlChannel({ brokers: target.brokers, tls: target.tls, topic: target.topic, clientId: "credex-pki" })
      : (await import("../../adapters/control/file-control-channel.js")).createFileControlChannel(target.file);
  try {
    await channel.publish({ key: controlItemKey(item), value: encodeControlItem(item) });
  } finally {
    await channel.close();
  }
  return channel.description;
}

/** Fixed-width table; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

const list: Sub = {
  name: "list",
  summary: "list issued certificates with their state",
  help: `usage: credex pki list [--dir <ca-dir>] [--json]

One line per certificate ever issued: name, serial, kind, not after, state
(valid, expiring (30 days or less left), expired, revoked).

${DIR_HELP}
  --json                    JSON array instead of the table

example: credex pki list --dir /srv/credex-ca`,
  async run(argv) {
    const parsed = parseCommandArgs({ name: "pki list", help: this.help }, argv, { dir: { type: "string" }, json: { type: "boolean" } });
    if (!parsed) return 0;
    const { readIndex, CaOperationError, stateOf } = await caDirectory();
    const dir = dirOf(parsed.values.dir);
    let index: CaIndex;
    try {
      index = await readIndex(dir);
    } catch (err) {
      if (err instanceof CaOperationError) throw new UsageError(err.message);
      throw err;
    }
    const now = new Date();
    const rows = index.certificates.map((c) => ({ name: c.name, serial: c.serial, kind: c.kind, notAfter: c.notAfter, state: stateOf(c, now), ...(c.reason ? { reason: c.reason } : {}) }));
    if (parsed.values.json) {
      out(JSON.stringify(rows, null, 2));
      return 0;
    }
    if (rows.length === 0) {
      out(`no certificates issued yet in ${dir}`);
      return 0;
    }
    out(
      formatTable(
        ["NAME", "SERIAL", "KIND", "NOT AFTER", "STATE"],
        rows.map((r) => [r.name, r.serial, r.kind, r.notAfter.replace(/\.\d{3}Z$/, "Z"), r.reason ? `${r.state} (${r.reason})` : r.state]),
      ),
    );
    return 0;
  },
};

const inspect: Sub = {
  name: "inspect",
  summary: "show what a certificate file says and its state in the CA",
  help: `usage: credex pki inspect <cert-file> [--dir <ca-dir>] [--trust-domain <td>]

Prints the identity (SPIFFE URI SAN, USCC, sector), serial, validity, usage and
SHA-256 fingerprint of the first certificate in the file. With a CA directory
(--dir or $CREDEX_CA_DIR) it also checks the issuing CA signed it and shows its
state from index.json.

example: credex pki inspect credex-ca/issued/pboc-crc.crt`,
  async run(argv) {
    const parsed = parseCommandArgs({ name: "pki inspect", help: this.help }, argv, { dir: { type: "string" }, "trust-domain": { type: "string" } }, true);
    if (!parsed) return 0;
    const { readIndex, caPaths, stateOf, findBySerial } = await caDirectory();
    if (parsed.positionals.length !== 1) throw new UsageError("give one certificate file");
    const file = parsed.positionals[0]!;
    const text = await readFile(file, "utf8").catch(() => {
      throw new UsageError(`cannot read ${file}`);
    });
    const pems = pemCertificateBlocks(text);
    if (pems.length === 0) throw new UsageError(`${file} holds no PEM certificate`);
    const x509 = new X509Certificate(pems[0]!);
    const dirGiven = parsed.values.dir ?? process.env["CREDEX_CA_DIR"];
    const index = dirGiven ? await readIndex(dirGiven).catch(() => undefined) : undefined;
    const ownDomain = /URI:spiffe:\/\/([^/,]+)\//.exec(x509.subjectAltName ?? "")?.[1];
    const trustDomain = parsed.values["trust-domain"] ?? index?.trustDomain ?? ownDomain ?? "";
    const d = describePeerCertificate(x509.raw, trustDomain);
    const p = d.principal;
    const who = !p ? `none (${d.identityProblem})` : p.kind === "agency" ? `agency ${p.agencyId}` : p.kind === "provider" ? `provider ${p.providerId}` : p.kind === "admin" ? `admin ${p.name} (role ${p.role})` : "gateway";
    const lines: Array<[string, string]> = [
      ["file", `${file} (${pems.length} certificate${pems.length > 1 ? "s" : ""})`],
      ["subject", x509.subject.replace(/\n/g, ", ")],
      ["issuer", x509.issuer.replace(/\n/g, ", ")],
      ["serial", d.serial],
      ["identity", d.spiffeId ?? "-"],
      ["principal", who],
      ["uscc", d.uscc ?? "-"],
      ["sector", d.sector ?? "-"],
      ["not before", d.notBefore.toISOString()],
      ["not after", d.notAfter.toISOString()],
      ["CA", d.isCa ? "yes" : "no"],
      ["ext key usage", d.extKeyUsage.join(", ") || "-"],
      ["SAN", x509.subjectAltName ?? "-"],
      ["sha256", d.fingerprint256],
    ];
    if (index && dirGiven) {
      const issuing = new X509Certificate(await readFile(caPaths(dirGiven).issuingCert));
      lines.push(["signed by CA", x509.checkIssued(issuing) && x509.verify(issuing.publicKey) ? "yes (issuing CA)" : "NO"]);
      const entry = findBySerial(index, d.serial);
      lines.push(["state", entry ? `${stateOf(entry, new Date())}${entry.reason ? ` (${entry.reason}, ${entry.revokedAt})` : ""}` : "not in index.json"]);
    }
    const width = Math.max(...lines.map(([k]) => k.length));
    out(lines.map(([k, val]) => `${`${k}:`.padEnd(width + 2)}${val}`).join("\n"));
    return 0;
  },
};

const SUBCOMMANDS: Sub[] = [init, issue, renew, revoke, crl, list, inspect];

const HELP = `usage: credex pki <subcommand> [options]      (credex pki <subcommand> --help for details)

Certificate lifecycle for operators: a root and an issuing CA in a CA
directory, SPIFFE identities for agencies, gateways, providers and
administrators, revocation with an X.509 v2 CRL, and an operations log.

subcommands:
${SUBCOMMANDS.map((s) => `  ${s.name.padEnd(8)}  ${s.summary}`).join("\n")}

example:
  credex pki init --dir ca --trust-domain exchange.example
  credex pki issue --dir ca --agency pboc-crc --sector BANKING --uscc 91310110666007217T
  credex pki revoke --dir ca --serial <serial> --reason keyCompromise`;

export const command: CliCommand = {
  name: "pki",
  summary: "operate the exchange CA: issue, renew, revoke certificates, publish the CRL",
  help: HELP,
  async run(argv) {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      out(HELP);
      return name === undefined ? 2 : 0;
    }
    const sub = SUBCOMMANDS.find((s) => s.name === name);
    if (!sub) throw new UsageError(`unknown subcommand "${name}" (one of ${SUBCOMMANDS.map((s) => s.name).join(", ")})`);
    return sub.run(rest);
  },
};
