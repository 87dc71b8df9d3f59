/**
 * Validation of the Kubernetes manifests under deploy/kubernetes against the official schemas,
 * with the tools of TOOLCHAIN.md: kubernetes-validate (PyPI) for Kubernetes' own kinds, and
 * kubeconform with JSON schemas made from the Strimzi and cert-manager CRDs for theirs. Every
 * tool is required: a missing one fails the test with how to install it (.ci/run does), never
 * a skip. Schemas made from the CRDs are cached under ~/.cache/credex/k8s-schemas/<digest>.
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, delimiter, join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { packageRoot } from "../../src/config/package-root.js";

const run = promisify(execFile);

export const KUBECONFORM_VERSION = "v0.7.0";
export const CERT_MANAGER_VERSION = "v1.19.1";
/** API groups validated with schemas made from CRDs (kubeconform); every other group is Kubernetes' own (kubernetes-validate). */
const CRD_GROUPS = ["kafka.strimzi.io", "cert-manager.io"];
/** cert-manager's CRDs of the kinds credex's manifests use, from its Go module (fetched through the Go module proxy). */
const CERT_MANAGER_CRDS = ["cert-manager.io_certificates.yaml", "cert-manager.io_issuers.yaml", "cert-manager.io_clusterissuers.yaml"];

const cacheHome = () => process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache");

function onPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) if (dir && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

let goEnvCache: Record<string, string> | undefined;
function goEnv(): Record<string, string> {
  if (goEnvCache) return goEnvCache;
  const go = onPath("go") ?? ["/usr/local/go/bin/go", "/usr/lib/go/bin/go"].find((p) => existsSync(p));
  if (!go) throw new Error("go is needed to find kubeconform's scripts and cert-manager's CRDs in the Go module cache: install Go (apt-get install golang-go; .ci/run does)");
  goEnvCache = JSON.parse(execFileSync(go, ["env", "-json", "GOPATH", "GOMODCACHE"], { encoding: "utf8" })) as Record<string, string>;
  return goEnvCache;
}

export function requireTool(name: string, envVar: string, candidates: readonly string[], install: string): string {
  const found = [process.env[envVar], onPath(name), ...candidates].find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error(`${name} is needed to validate deploy/kubernetes: ${install} (.ci/run does), or set ${envVar}=<path>`);
  return found;
}

export interface K8sTools {
  readonly kustomize: string;
  readonly kubeconform: string;
  readonly kubernetesValidate: string;
  /** Directory of JSON schemas made from the CRDs, named {group}_{kind}_{version}.json. */
  readonly crdSchemas: string;
}

/** Finds the tools and makes (or reuses) the CRD schemas; throws naming what is missing and how to install it. */
export async function k8sTools(): Promise<K8sTools> {
  const goBin = () => join(goEnv()["GOPATH"]!.split(delimiter)[0]!, "bin");
  const venv = join(cacheHome(), "credex", "k8s-venv", "bin");
  const kustomize = requireTool("kustomize", "KUSTOMIZE", [join(homedir(), "go", "bin", "kustomize")].concat(safe(() => join(goBin(), "kustomize"))), "go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1");
  const kubeconform = requireTool("kubeconform", "KUBECONFORM", [join(homedir(), "go", "bin", "kubeconform")].concat(safe(() => join(goBin(), "kubeconform"))), `go install github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}`);
  const kubernetesValidate = requireTool("kubernetes-validate", "KUBERNETES_VALIDATE", [join(venv, "kubernetes-validate")], `python3 -m venv ${join(cacheHome(), "credex", "k8s-venv")} && ${join(venv, "pip")} install kubernetes-validate==1.37.0`);
  return { kustomize, kubeconform, kubernetesValidate, crdSchemas: await crdSchemaDir(join(venv, "python")) };
}

function safe(f: () => string): string[] {
  try {
    return [f()];
  } catch {
    return [];
  }
}

/** The CRD files the schemas are made from: Strimzi's (kept in test/k8s/crds: no registry serves them) and cert-manager's (Go module). */
export function crdFiles(): string[] {
  const strimziDir = join(packageRoot(), "test", "k8s", "crds");
  const strimzi = readdirSync(strimziDir).filter((f) => f.endsWith(".yaml")).map((f) => join(strimziDir, f));
  const certManagerDir = join(goEnv()["GOMODCACHE"]!, "github.com", "cert-manager", `cert-manager@${CERT_MANAGER_VERSION}`, "deploy", "crds");
  const certManager = CERT_MANAGER_CRDS.map((f) => join(certManagerDir, f));
  const missing = certManager.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`cert-manager's CRDs are needed to validate deploy/kubernetes: go mod download github.com/cert-manager/cert-manager@${CERT_MANAGER_VERSION} (.ci/run does); missing ${missing.join(", ")}`);
  return [...strimzi, ...certManager];
}

async function crdSchemaDir(python: string): Promise<string> {
  const script = join(goEnv()["GOMODCACHE"]!, "github.com", "yannh", `kubeconform@${KUBECONFORM_VERSION}`, "scripts", "openapi2jsonschema.py");
  if (!existsSync(script)) throw new Error(`kubeconform's openapi2jsonschema.py is needed: go mod download github.com/yannh/kubeconform@${KUBECONFORM_VERSION} (.ci/run does); missing ${script}`);
  if (!existsSync(python)) throw new Error(`the Python of ${join(cacheHome(), "credex", "k8s-venv")} (with PyYAML, which kubernetes-validate installs) is needed to make the CRD schemas (.ci/run makes it)`);
  const files = crdFiles();
  const digest = createHash("sha256");
  for (const f of [script, ...files]) digest.update(basename(f)).update(readFileSync(f));
  const dir = join(cacheHome(), "credex", "k8s-schemas", digest.digest("hex").slice(0, 16));
  if (existsSync(dir)) return dir;
  mkdirSync(join(cacheHome(), "credex", "k8s-schemas"), { recursive: true });
  const work = mkdtempSync(`${dir}.tmp-`);
  try {
    await run(python, [script, ...files], { cwd: work, env: { ...process.env, FILENAME_FORMAT: "{fullgroup}_{kind}_{version}" } });
    renameSync(work, dir);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    if (!existsSync(dir)) throw err;
  }
  return dir;
}

export interface ManifestSource {
  /** Names the source in problems: a file under deploy/, or "kustomize build <dir>". */
  readonly label: string;
  readonly text: string;
}

/** `kustomize build <dir>` as a source; a build error is thrown with kustomize's message. */
export async function kustomizeBuild(tools: K8sTools, dir: string): Promise<ManifestSource> {
  try {
    const { stdout } = await run(tools.kustomize, ["build", dir], { maxBuffer: 64 * 1024 * 1024 });
    return { label: `kustomize build ${dir}`, text: stdout };
  } catch (err) {
    throw new Error(`kustomize build ${dir} failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
}

/**
 * Validates every document of every source; resolves to the problems found, each naming its
 * source, kind and name (empty: all valid). A document without apiVersion and kind, or of a kind
 * no schema knows, is a problem, not a skip.
 */
export async function validateManifests(tools: K8sTools, sources: readonly ManifestSource[]): Promise<string[]> {
  const problems: string[] = [];
  const work = mkdtempSync(join(tmpdir(), "credex-k8s-"));
  const labels = new Map<string, string>();
  const crdFilesToCheck: string[] = [];
  const coreFilesToCheck: string[] = [];
  try {
    sources.forEach((source, i) => {
      const crd: unknown[] = [];
      const core: unknown[] = [];
      parseAllDocuments(source.text).forEach((doc, d) => {
        if (doc.errors.length > 0) return void problems.push(`${source.label}: document ${d + 1}: not YAML: ${doc.errors[0]!.message}`);
        const value = doc.toJS() as { apiVersion?: unknown; kind?: unknown } | null;
        if (value === null || value === undefined) return;
        if (typeof value.apiVersion !== "string" || typeof value.kind !== "string") return void problems.push(`${source.label}: document ${d + 1}: no apiVersion and kind: not a Kubernetes manifest`);
        (CRD_GROUPS.includes(value.apiVersion.split("/")[0]!) ? crd : core).push(value);
      });
      for (const [docs, kind, list] of [[crd, "crd", crdFilesToCheck], [core, "core", coreFilesToCheck]] as const) {
        if (docs.length === 0) continue;
        const file = join(work, `${i}-${kind}.yaml`);
        writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
        labels.set(file, source.label);
        list.push(file);
      }
    });
    const relabel = (text: string) => [...labels].reduce((t, [file, label]) => t.split(file).join(label), text);
    if (crdFilesToCheck.length > 0) {
      const out = await runTool(tools.kubeconform, ["-strict", "-output", "json", "-schema-location", join(tools.crdSchemas, "{{ .Group }}_{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"), ...crdFilesToCheck]);
      const report = JSON.parse(out.stdout || "{}") as { resources?: Array<{ filename: string; kind: string; name: string; status: string; msg: string }> };
      for (const r of report.resources ?? []) if (r.status !== "statusValid") problems.push(`${relabel(r.filename)}: ${r.kind} ${r.name}: ${r.msg}`);
      if (out.code !== 0 && (report.resources ?? []).every((r) => r.status === "statusValid")) problems.push(`kubeconform failed: ${relabel(out.stderr || out.stdout)}`);
    }
    if (coreFilesToCheck.length > 0) {
      const out = await runTool(tools.kubernetesValidate, ["--strict", "--quiet", ...coreFilesToCheck]);
      // A kind it has no schema for is only a warning to kubernetes-validate: here it fails.
      const lines = `${out.stdout}\n${out.stderr}`.split("\n").filter((l) => /^(ERROR|WARN)/.test(l));
      problems.push(...lines.map(relabel));
      if (out.code !== 0 && lines.length === 0) problems.push(`kubernetes-validate failed: ${relabel(out.stderr || out.stdout)}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return problems;
}

async function runTool(tool: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tool, args, { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== "number") throw new Error(`${tool} could not run: ${e.message}`);
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
