/**
 * deploy/kubernetes: every manifest validates against the official schemas (Kubernetes' own
 * kinds with kubernetes-validate, Strimzi and cert-manager kinds with kubeconform and schemas
 * made from their CRDs), a broken one is caught, and what the manifests promise matches the
 * code: the topics it uses with the retention and compaction it checks at start (DESIGN.md
 * "Kafka topics"; Cybersecurity Law Art. 21: 180 days), least-privilege ACLs per role, probes
 * on the health listener, and a grace period longer than the drain.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments, stringify } from "yaml";
import { packageRoot } from "../src/config/package-root.js";
import { parseGatewayConfig } from "../src/config/gateway-config.js";
import { AUDIT_CHECKPOINT_TOPIC, AUDIT_TOPIC, MIN_AUDIT_RETENTION_MS } from "../src/adapters/kafka/audit-topics.js";
import { INCIDENTS_TOPIC } from "../src/adapters/kafka/incident-topic.js";
import { CONTROL_TOPIC_CONFIGS, controlTopicProblems } from "../src/adapters/kafka/kafka-control-channel.js";
import { k8sTools, kustomizeBuild, requireTool, validateManifests, type K8sTools, type ManifestSource } from "./support/k8s-manifests.js";

const root = packageRoot();
const k8sDir = join(root, "deploy", "kubernetes");
/** Files under deploy/kubernetes that are not Kubernetes manifests: the gateway's config and policies, put into ConfigMaps. */
const NOT_MANIFESTS = [join(k8sDir, "gateway", "gateway.yaml"), join(k8sDir, "gateway", "policies")];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are untyped YAML, read field by field
type Doc = any;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
const yamlFiles = () => walk(k8sDir).filter((f) => /\.ya?ml$/.test(f));
const isKustomization = (f: string) => /(^|\/)kustomization\.ya?ml$/.test(f);
const manifestFiles = () => yamlFiles().filter((f) => !isKustomization(f) && !NOT_MANIFESTS.some((n) => f === n || f.startsWith(`${n}/`)));
const source = (file: string): ManifestSource => ({ label: relative(root, file), text: readFileSync(file, "utf8") });
const docsOf = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJS() as Doc).filter((d) => d);

/** Kustomizations to build (a Component is built only through one). */
function kustomizationDirs(): string[] {
  return yamlFiles()
    .filter(isKustomization)
    .filter((f) => (parseYaml(readFileSync(f, "utf8")) as Doc).kind === "Kustomization")
    .map((f) => f.slice(0, f.lastIndexOf("/")));
}

let tools: K8sTools;
let built: Map<string, Doc[]>;
beforeAll(async () => {
  tools = await k8sTools();
  built = new Map();
  for (const dir of kustomizationDirs()) built.set(relative(root, dir), docsOf((await kustomizeBuild(tools, dir)).text));
});

const everything = (name: string) => built.get(`deploy/kubernetes/${name}`)!;
const kindOf = (docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind);

describe("deploy/kubernetes validates against the official schemas", () => {
  it("ok/every kustomization builds and every document it renders validates", async () => {
    expect([...built.keys()].sort()).toEqual(["deploy/kubernetes/credex", "deploy/kubernetes/credex-with-cert-manager", "deploy/kubernetes/gateway", "deploy/kubernetes/kafka"]);
    const sources = await Promise.all(kustomizationDirs().map((dir) => kustomizeBuild(tools, dir)));
    expect(await validateManifests(tools, sources)).toEqual([]);
  });

  it("ok/every manifest file validates on its own", async () => {
    const files = manifestFiles();
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(await validateManifests(tools, files.map(source))).toEqual([]);
  });

  it("ok/the full deployment has every piece: StatefulSet of 3, Services, PDB, NetworkPolicy, ConfigMaps, Kafka on a node pool of 3, topics, users; cert-manager adds Issuer and Certificate", () => {
    const kinds = (docs: Doc[]) => [...new Set(docs.map((d) => d.kind as string))].sort();
    expect(kinds(everything("credex"))).toEqual(["ConfigMap", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Namespace", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount", "StatefulSet"]);
    expect(kinds(everything("credex-with-cert-manager"))).toEqual(["Certificate", "ConfigMap", "Issuer", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Namespace", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount", "StatefulSet"]);
    for (const d of everything("credex-with-cert-manager")) if (d.kind !== "Namespace") expect(d.metadata.namespace, `${d.kind} ${d.metadata.name}`).toBe("credex");
    expect(kindOf(everything("credex"), "StatefulSet")[0].spec.replicas).toBe(3);
    expect(kindOf(everything("credex"), "KafkaNodePool")[0].spec).toMatchObject({ replicas: 3, roles: ["controller", "broker"] });
  });
});

describe("a broken manifest is caught", () => {
  const statefulSet = () => join(k8sDir, "gateway", "statefulset.yaml");
  const mutated = (file: string, change: (doc: Doc) => void): ManifestSource => {
    const docs = docsOf(readFileSync(file, "utf8"));
    change(docs);
    return { label: `broken ${relative(root, file)}`, text: docs.map((d) => stringify(d)).join("---\n") };
  };

  it.each([
    ["fail/StatefulSet replicas not an integer", () => mutated(statefulSet(), (d) => (d[0].spec.replicas = "three")), /broken deploy\/kubernetes\/gateway\/statefulset\.yaml.*statefulset\/credex-gateway.*spec\.replicas: 'three' is not of type 'integer'/],
    ["fail/StatefulSet with a misspelt field (strict)", () => mutated(statefulSet(), (d) => (d[0].spec.template.spec.containers[0].readinesProbe = d[0].spec.template.spec.containers[0].readinessProbe)), /statefulset\/credex-gateway.*readinesProbe/],
    ["fail/KafkaUser ACL with an operation Kafka does not have", () => mutated(join(k8sDir, "kafka", "users.yaml"), (d) => (d[1].spec.authorization.acls[0].operations = ["Steal"])), /KafkaUser credex-officer: .*\/spec\/authorization\/acls\/0\/operations\/0': value must be one of 'Read'/],
    ["fail/KafkaTopic partitions as a string", () => mutated(join(k8sDir, "kafka", "topics.yaml"), (d) => (d[0].spec.partitions = "3")), /KafkaTopic credex-audit-v1: .*\/spec\/partitions.*got string, want integer/],
    ["fail/cert-manager Certificate with an unknown key usage", () => mutated(join(k8sDir, "cert-manager", "certificate.yaml"), (d) => (d[0].spec.usages = ["server auth", "mint money"])), /Certificate credex-gateway: .*usages/],
    ["fail/a document without a kind", () => mutated(join(k8sDir, "gateway", "pod-disruption-budget.yaml"), (d) => delete d[0].kind), /document 1: no apiVersion and kind/],
    ["fail/a kind no schema knows (core group)", () => mutated(join(k8sDir, "gateway", "pod-disruption-budget.yaml"), (d) => (d[0].kind = "PodDisruptionBudgett")), /PodDisruptionBudgett/],
    ["fail/a kind no schema knows (Strimzi)", () => mutated(join(k8sDir, "kafka", "node-pool.yaml"), (d) => (d[0].kind = "KafkaNodePoool")), /KafkaNodePoool.*could not find schema/],
  ])("%s", async (_name, broken, problem) => {
    const problems = await validateManifests(tools, [broken()]);
    expect(problems.join("\n")).toMatch(problem);
  });

  it("fail/a missing tool fails the test, saying how to install it (never a skip)", () => {
    expect(() => requireTool("kubeconform-missing", "CREDEX_TEST_NO_SUCH_TOOL", ["/nonexistent/kubeconform"], "go install github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0")).toThrow(
      "kubeconform-missing is needed to validate deploy/kubernetes: go install github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0 (.ci/run does), or set CREDEX_TEST_NO_SUCH_TOOL=<path>",
    );
  });

  it("fail/a kustomization that names a missing file does not build", async () => {
    await expect(kustomizeBuild(tools, join(root, "test", "k8s", "broken-kustomization"))).rejects.toThrow(/kustomize build .*broken-kustomization failed: .*no-such-file\.yaml/s);
  });
});

describe("the manifests match the code", () => {
  // kafka.tls names files mounted from Secrets in the pod (checked at load); checked here against the mounts.
  const configDocument = () => parseYaml(readFileSync(join(k8sDir, "gateway", "gateway.yaml"), "utf8")) as Record<string, unknown>;
  const config = () => {
    const { kafka: _mountedInThePod, ...rest } = configDocument();
    return parseGatewayConfig(join(k8sDir, "gateway", "gateway.yaml"), { ...rest, instance: "credex-gateway-0" });
  };
  const topics = () => new Map<string, Doc>(kindOf(everything("credex"), "KafkaTopic").map((t) => [t.spec.topicName as string, t]));

  it("ok/the gateway config of the ConfigMap is valid and names the code's default topics on Strimzi's TLS bootstrap", () => {
    const c = config();
    expect([c.audit.kafka!.topic, c.audit.kafka!.checkpointTopic, c.incidents.kafka!.topic]).toEqual([AUDIT_TOPIC, AUDIT_CHECKPOINT_TOPIC, INCIDENTS_TOPIC]);
    expect(c.control).toEqual({ kind: "kafka", brokers: ["credex-kafka-kafka-bootstrap:9093"], topic: "credex.control.v1" });
    expect(c.lists.kafka?.topic).toBe("credex.lists.v1");
    expect(c.audit.kafka!.createTopics).toBe(false);
    const kafka = kindOf(everything("credex"), "Kafka")[0];
    expect(kafka.spec.kafka.listeners).toMatchObject([{ name: "tls", port: 9093, type: "internal", tls: true, authentication: { type: "tls" } }]);
    expect(kafka.spec.kafka.listeners[0].networkPolicyPeers[0]).toEqual({ podSelector: { matchLabels: { "app.kubernetes.io/name": "credex-gateway" } } });
    expect(kafka.spec.kafka.authorization).toEqual({ type: "simple" });
  });

  it("ok/every Kafka connection over mTLS: kafka.tls names the KafkaUser's certificate and the cluster CA, mounted from their Secrets", () => {
    const tls = (configDocument()["kafka"] as { tls: Record<string, string> }).tls;
    expect(tls).toEqual({ ca: "/etc/credex/kafka/cluster-ca/ca.crt", cert: "/etc/credex/kafka/user/user.crt", key: "/etc/credex/kafka/user/user.key" });
    const pod = kindOf(everything("credex"), "StatefulSet")[0].spec.template.spec;
    const mounts = new Map<string, string>(pod.containers[0].volumeMounts.map((m: Doc) => [m.name as string, m.mountPath as string]));
    const secrets = new Map<string, string>(pod.volumes.filter((v: Doc) => v.secret).map((v: Doc) => [v.name as string, v.secret.secretName as string]));
    expect([mounts.get("kafka-user"), secrets.get("kafka-user")]).toEqual(["/etc/credex/kafka/user", "credex-gateway"]);
    expect([mounts.get("kafka-cluster-ca"), secrets.get("kafka-cluster-ca")]).toEqual(["/etc/credex/kafka/cluster-ca", "credex-kafka-cluster-ca-cert"]);
  });

  it("ok/a KafkaTopic for every topic the gateway uses, replicated 3 with min.insync.replicas 2", () => {
    const c = config();
    const used = [c.audit.kafka!.topic, c.audit.kafka!.checkpointTopic, c.incidents.kafka!.topic, c.lists.kafka!.topic, c.control!.kind === "kafka" ? c.control!.topic : "", c.disclosure.kafka!.topic];
    expect([...topics().keys()].sort()).toEqual([...used].sort());
    for (const t of topics().values()) {
      expect(t.spec.replicas, t.spec.topicName).toBe(3);
      expect(t.spec.config["min.insync.replicas"], t.spec.topicName).toBe(2);
      expect(t.metadata.labels["strimzi.io/cluster"]).toBe("credex-kafka");
    }
  });

  // Cybersecurity Law Art. 21: the audit is kept ≥ 180 days and never compacted (ensureAuditTopics checks the same at start).
  it("ok/audit and checkpoint topics keep 180 days and delete, never compact", () => {
    for (const name of [AUDIT_TOPIC, AUDIT_CHECKPOINT_TOPIC]) {
      expect(topics().get(name)!.spec.config).toMatchObject({ "retention.ms": MIN_AUDIT_RETENTION_MS, "cleanup.policy": "delete" });
    }
    expect(topics().get(INCIDENTS_TOPIC)!.spec.config).toMatchObject({ "retention.ms": MIN_AUDIT_RETENTION_MS, "cleanup.policy": "compact,delete" });
    expect(topics().get("credex.lists.v1")!.spec.config["cleanup.policy"]).toBe("compact");
  });

  it("ok/the control topic has the config the gateway refuses to start without in production (a revocation cannot be compacted away)", () => {
    const cfg = Object.fromEntries(Object.entries(topics().get("credex.control.v1")!.spec.config as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    expect(controlTopicProblems(cfg)).toBe("");
    for (const [key, value] of Object.entries(CONTROL_TOPIC_CONFIGS)) expect(cfg[key], key).toBe(value);
  });

  it("ok/least privilege: the gateway writes audit and reads control; officers only read the audit; only the operator writes control", () => {
    const users = new Map<string, Doc>(kindOf(everything("credex"), "KafkaUser").map((u) => [u.metadata.name as string, u]));
    expect([...users.keys()].sort()).toEqual(["credex-gateway", "credex-officer", "credex-operator"]);
    const ops = (user: string, type: string, name: string): string[] =>
      users
        .get(user)!
        .spec.authorization.acls.filter((a: Doc) => a.resource.type === type && a.resource.name === name)
        .flatMap((a: Doc) => a.operations as string[]);
    for (const u of users.values()) {
      expect(u.spec.authentication).toEqual({ type: "tls" });
      for (const acl of u.spec.authorization.acls) {
        expect(acl.type ?? "allow").toBe("allow");
        expect(acl.operations).not.toContain("All");
        expect(acl.resource.type).not.toBe("cluster");
      }
    }
    expect(ops("credex-gateway", "topic", AUDIT_TOPIC)).toContain("Write");
    expect(ops("credex-gateway", "topic", AUDIT_CHECKPOINT_TOPIC)).toContain("Write");
    expect(ops("credex-gateway", "topic", "credex.control.v1")).toContain("Read");
    // Replicas write their signed runtime settings there; every replica verifies the signer is a gateway.
    expect(ops("credex-gateway", "topic", "credex.control.v1")).toContain("Write");
    expect(ops("credex-officer", "topic", AUDIT_TOPIC)).toEqual(["Read", "Describe"]);
    const officerWrites = users.get("credex-officer")!.spec.authorization.acls.filter((a: Doc) => a.resource.type === "topic" && a.operations.some((o: string) => ["Write", "Create", "Alter", "AlterConfigs", "Delete"].includes(o)));
    expect(officerWrites).toEqual([]);
    const controlWriters = [...users.keys()].filter((u) => ops(u, "topic", "credex.control.v1").includes("Write"));
    expect(controlWriters.sort()).toEqual(["credex-gateway", "credex-operator"]);
    expect(users.get("credex-operator")!.spec.authorization.acls.filter((a: Doc) => a.resource.type === "topic").map((a: Doc) => a.resource.name)).toEqual(["credex.control.v1"]);
  });

  it("ok/probes on the health listener's port, /healthz live and /readyz ready; the grace period covers preStop and the drain", () => {
    const c = config();
    const set = kindOf(everything("credex"), "StatefulSet")[0];
    const pod = set.spec.template.spec;
    const container = pod.containers[0];
    const port = (name: string) => container.ports.find((p: Doc) => p.name === name).containerPort as number;
    expect(c.health?.listen).toBe(`0.0.0.0:${port("health")}`);
    expect(c.listen).toBe(`0.0.0.0:${port("grpc-mtls")}`);
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "health" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "health" });
    expect(container.args).toEqual(["gateway", "start", "--config", "/etc/credex/config/gateway.yaml", "--instance", "$(POD_NAME)"]);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(container.lifecycle.preStop.sleep.seconds * 1000 + c.health!.drainMs);
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.resources.requests).toEqual({ cpu: "500m", memory: "256Mi" });
    // The key ring must be 0600 (src/core/audit/key-ring.ts); Secret files are 0440 under fsGroup, so an init container copies it.
    const init = pod.initContainers.find((c: Doc) => c.name === "audit-key-ring");
    expect(init.command.join(" ")).toContain(`fs.chmodSync("${c.audit.keyRing}", 0o600)`);
    expect(init.image).toBe(container.image);
    const keyRingMount = container.volumeMounts.find((m: Doc) => c.audit.keyRing.startsWith(`${m.mountPath}/`));
    expect(pod.volumes.find((v: Doc) => v.name === keyRingMount.name).emptyDir).toEqual({ medium: "Memory", sizeLimit: "1Mi" });
    // The state a replica keeps (DESIGN.md: audit chain head and spool) is on its own volume, not the read-only root.
    for (const path of [c.audit.chainState, c.audit.kafka!.spoolFile, c.incidents.file, c.objections.stateFile, c.lists.file]) expect(path.startsWith("/var/lib/credex/"), path).toBe(true);
  });

  it("ok/the cert-manager Certificate has the gateway's certificate profile: one URI SAN spiffe://<trustDomain>/gateway, serverAuth and clientAuth", () => {
    const cert = kindOf(everything("credex-with-cert-manager"), "Certificate")[0];
    expect(cert.spec.uris).toEqual([`spiffe://${config().trustDomain}/gateway`]);
    expect(cert.spec.usages).toEqual(expect.arrayContaining(["server auth", "client auth"]));
    expect(cert.spec.subject).toEqual({ organizations: ["credex exchange"], organizationalUnits: ["gateway"] });
    expect(cert.spec.secretName).toBe(kindOf(everything("credex"), "StatefulSet")[0].spec.template.spec.volumes.find((v: Doc) => v.name === "tls").secret.secretName);
  });

  it("ok/the policies ConfigMap carries the shipped policies unchanged", () => {
    const dir = join(k8sDir, "gateway", "policies");
    for (const name of readdirSync(dir)) expect(readFileSync(join(dir, name), "utf8"), name).toBe(readFileSync(join(root, "policies", name), "utf8"));
    expect(existsSync(join(dir, "model.conf"))).toBe(true);
  });
});
