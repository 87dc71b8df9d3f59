import { parseCommandArgs, readCertificateOption, UsageError, type CliCommand } from "../command.js";
import { loadGatewayConfig } from "../../config/gateway-config.js";
import { enrolAdminCertificate } from "../../gateway/admin-totp.js";
import { writePrivateFile } from "../../adapters/pki/pem-files.js";

const HELP = `usage: credex admin totp enroll --cert <admin.crt> (--config <gateway.yaml> | --enrolments <file> --trust-domain <td>)
                                [--secret-file <path>]

Administrators' second factor (GB/T 22239-2019 8.1.4.1 d: two authentication
techniques, one cryptographic). Run by the system administrator on the gateway
host: enrols a new TOTP secret (RFC 6238: HMAC-SHA1, 30 s, 6 digits) for the
administrator certificate's fingerprint in the gateway's enrolment file
(admin.totp.enrolments, written 0600; re-enrolling replaces the secret) and
prints the otpauth:// URI once, for the administrator's authenticator app.
From then on every GatewayAdmin call with that certificate needs the current
code in the x-credex-totp metadata (credex incidents ... --totp <code>); a code
is accepted once (RFC 6238 §5.2). The gateway reads the file on every admin
call: no restart needed.

options:
  --cert <pem>            the administrator certificate (spiffe://<td>/admin/<role>/<name>)
  --config <yaml>         the gateway config: enrolment file and trust domain from it
  --enrolments <file>     the enrolment file (instead of --config)
  --trust-domain <td>     with --enrolments
  --secret-file <path>    also write the base32 secret there (0600), for scripted
                          clients such as the demo; otherwise it is shown only in the URI

examples:
  credex admin totp enroll --config /etc/credex/gateway.yaml --cert admins/security-alice.crt
`;

export const command: CliCommand = {
  name: "admin",
  summary: "administrators' second factor: enrol a TOTP secret for an admin certificate",
  help: HELP,
  async run(argv) {
    const parsed = parseCommandArgs(
      this,
      argv,
      { cert: { type: "string" }, config: { type: "string" }, enrolments: { type: "string" }, "trust-domain": { type: "string" }, "secret-file": { type: "string" } },
      true,
    );
    if (parsed === null) return 0;
    const [group, action, ...rest] = parsed.positionals;
    if (group !== "totp" || action !== "enroll" || rest.length > 0) throw new UsageError(`expected "totp enroll", got "${parsed.positionals.join(" ")}"`);
    const v = parsed.values;
    if (!v.cert) throw new UsageError("--cert is required");
    let enrolments: string;
    let trustDomain: string;
    if (v.config !== undefined) {
      if (v.enrolments !== undefined || v["trust-domain"] !== undefined) throw new UsageError("give --config or --enrolments with --trust-domain, not both");
      const config = loadGatewayConfig(v.config);
      if (!config.admin) throw new UsageError(`${v.config} has no admin section: the admin API is off`);
      enrolments = config.admin.totp.enrolments;
      trustDomain = config.trustDomain;
    } else {
      if (!v.enrolments || !v["trust-domain"]) throw new UsageError("give --config, or --enrolments and --trust-domain");
      enrolments = v.enrolments;
      trustDomain = v["trust-domain"];
    }
    const pem = readCertificateOption("cert", v.cert);
    let enrolled;
    try {
      enrolled = enrolAdminCertificate(enrolments, pem, trustDomain, new Date());
    } catch (err) {
      throw new UsageError(`${v.cert}: ${(err as Error).message}`);
    }
    if (v["secret-file"] !== undefined) await writePrivateFile(v["secret-file"], `${enrolled.secret}\n`);
    process.stdout.write(`enrolled ${enrolled.admin} (certificate ${enrolled.fingerprint}) in ${enrolments}\n`);
    process.stdout.write(`add to the authenticator app now; it is not shown again:\n${enrolled.uri}\n`);
    return 0;
  },
};
