/**
 * Everything that would make submitJob reject a spec, checked up front so an HTTP
 * submission either creates every job or none and answers 400 naming each field.
 * (Queue submissions keep a Rejected record instead: there is nobody to answer.)
 */
import { validateSpec, type JobSpec } from "../jobSpec.js";
import { applyPool } from "../poolRules.js";
import type { Deps } from "../scheduler/deps.js";
import type { FieldError } from "./http.js";

export type SpecCheck = { ok: true; spec: JobSpec } | { ok: false; errors: FieldError[] };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A malformed secureEnv name may be a value pasted in the wrong place ("TOKEN=abc…"),
 * so errors name the field without repeating it. Valid names are shown: they are
 * kept and shown anyway (secureEnvNames).
 */
function hideBadSecureNames(errors: FieldError[]): FieldError[] {
  return errors.map((e) => {
    const m = /^secureEnv\.(.*)$/s.exec(e.field);
    return m && !ENV_NAME.test(m[1]!) ? { field: "secureEnv.<name not shown>", rule: e.rule } : e;
  });
}

export function checkSpec(deps: Deps, input: unknown): SpecCheck {
  const checked = validateSpec(input);
  if (!checked.ok) return { ok: false, errors: hideBadSecureNames(checked.errors) };
  const pooled = applyPool(checked.spec, deps.config.pools, deps.config.secrets);
  return pooled.ok ? { ok: true, spec: pooled.spec } : pooled;
}

/** Prefixes each error's field with the spec's index in a list: `[2].cpu`. */
export function atIndex(errors: FieldError[], index: number): FieldError[] {
  return errors.map((e) => ({ field: e.field === "(spec)" ? `[${index}]` : `[${index}].${e.field}`, rule: e.rule }));
}
