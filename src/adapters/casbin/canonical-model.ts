/**
 * The model the compiled evaluator implements (policies/model.conf without its
 * comments). A model file whose definitions differ from these, once Casbin has
 * parsed and escaped both, is refused by the compiler: the index would otherwise
 * answer a question the security staff did not write.
 */
export const CANONICAL_MODEL = `
[request_definition]
r = sub, dom, obj, act, lvl, pur

[policy_definition]
p = sub, dom, obj, act, lvl, pur, eft

[role_definition]
g = _, _
g2 = _, _
g3 = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = (p.sub == "*" || g(r.sub, p.sub)) && (p.dom == "*" || g2(r.dom, p.dom)) && (p.obj == "*" || g3(r.obj, p.obj)) && r.act == p.act && ((p.eft == "allow" && r.lvl <= p.lvl) || (p.eft == "deny" && r.lvl >= p.lvl)) && (p.pur == "*" || regexMatch(r.pur, "^(" + p.pur + ")$"))
`;

/** Purpose names as the matcher's regex needs them: literal, no regex metacharacters. */
export const PURPOSE_NAME = /^[A-Z][A-Z0-9_]*$/;
