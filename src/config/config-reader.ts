/**
 * Typed reading of a parsed YAML/JSON document with precise errors: every
 * problem names the file and the path inside it (e.g.
 * `gateway.yaml: agencies[2].uscc: …`). Used by every config loader, once at
 * start (STYLE.md: config validated once, then frozen).
 */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly path: string,
    problem: string,
  ) {
    super(`${file}: ${path ? `${path}: ` : ""}${problem}`);
    this.name = "ConfigError";
  }
}

/** What a loader asks of one key: the configuration reference (docs/reference/configuration.md) is made from these. */
export interface ConfigKeyUse {
  /** Path with list indexes folded: `agencies[].uscc`. */
  readonly path: string;
  readonly type: "mapping" | "string" | "integer" | "boolean" | "list of strings";
  readonly default?: string | number | boolean | undefined;
  readonly oneOf?: readonly string[] | undefined;
  readonly pattern?: string | undefined;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  /** mapping: the keys it allows. */
  readonly keys?: readonly string[] | undefined;
}

export class ConfigReader {
  constructor(
    readonly file: string,
    readonly value: unknown,
    readonly path = "",
    /** Told of every key a loader reads (reference generation); absent in normal use. */
    private readonly observe?: (use: ConfigKeyUse) => void,
  ) {}

  private told(use: Omit<ConfigKeyUse, "path">): void {
    this.observe?.({ path: this.path.replace(/\[\d+\]/g, "[]"), ...use });
  }

  fail(problem: string): never {
    throw new ConfigError(this.file, this.path, problem);
  }

  private child(key: string | number, value: unknown): ConfigReader {
    const path = typeof key === "number" ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    return new ConfigReader(this.file, value, path, this.observe);
  }

  object(allowed?: readonly string[]): this {
    if (allowed) this.told({ type: "mapping", keys: allowed });
    if (typeof this.value !== "object" || this.value === null || Array.isArray(this.value)) this.fail("must be a mapping");
    if (allowed) {
      for (const key of Object.keys(this.value)) if (!allowed.includes(key)) this.child(key, undefined).fail(`unknown key (expected one of: ${allowed.join(", ")})`);
    }
    return this;
  }

  field(key: string): ConfigReader {
    this.object();
    return this.child(key, (this.value as Record<string, unknown>)[key]);
  }

  has(key: string): boolean {
    return typeof this.value === "object" && this.value !== null && (this.value as Record<string, unknown>)[key] !== undefined;
  }

  items(): ConfigReader[] {
    if (!Array.isArray(this.value)) this.fail("must be a list");
    return (this.value as unknown[]).map((v, i) => this.child(i, v));
  }

  entries(): Array<[string, ConfigReader]> {
    this.object();
    return Object.entries(this.value as Record<string, unknown>).map(([k, v]) => [k, this.child(k, v)]);
  }

  string(options: { default?: string; pattern?: RegExp; oneOf?: readonly string[] } = {}): string {
    this.told({ type: "string", default: options.default, oneOf: options.oneOf, pattern: options.pattern?.source });
    if (this.value === undefined && options.default !== undefined) return options.default;
    if (typeof this.value !== "string" || this.value === "") this.fail("must be a non-empty string");
    const s = this.value as string;
    if (options.oneOf && !options.oneOf.includes(s)) this.fail(`"${s}" is not one of: ${options.oneOf.join(", ")}`);
    if (options.pattern && !options.pattern.test(s)) this.fail(`"${s}" does not match ${options.pattern}`);
    return s;
  }

  optionalString(): string | undefined {
    return this.value === undefined ? undefined : this.string();
  }

  integer(options: { default?: number; min?: number; max?: number } = {}): number {
    this.told({ type: "integer", default: options.default, min: options.min, max: options.max });
    if (this.value === undefined && options.default !== undefined) return options.default;
    if (typeof this.value !== "number" || !Number.isInteger(this.value)) this.fail("must be an integer");
    const n = this.value as number;
    if (options.min !== undefined && n < options.min) this.fail(`must be ≥ ${options.min} (got ${n})`);
    if (options.max !== undefined && n > options.max) this.fail(`must be ≤ ${options.max} (got ${n})`);
    return n;
  }

  boolean(defaultValue?: boolean): boolean {
    this.told({ type: "boolean", default: defaultValue });
    if (this.value === undefined && defaultValue !== undefined) return defaultValue;
    if (typeof this.value !== "boolean") this.fail("must be true or false");
    return this.value as boolean;
  }

  stringList(options: { oneOf?: readonly string[] } = {}): string[] {
    this.told({ type: "list of strings", oneOf: options.oneOf });
    return this.items().map((item) => item.string(options.oneOf ? { oneOf: options.oneOf } : {}));
  }
}
