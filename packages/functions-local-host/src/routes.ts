/**
 * ASP.NET-style route templates as the Functions host uses them for HTTP triggers:
 * literal segments, `{name}`, optional `{name?}`, constrained `{name:int}`/`{name:alpha}`/
 * `{name:guid}`, and a catch-all `{*name}` as the last segment. Literals match case-
 * insensitively.
 */
export interface CompiledRoute {
  template: string;
  match(path: string): Record<string, string> | undefined;
}

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  alpha: /^[a-z]+$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  bool: /^(true|false)$/i,
};

type Segment =
  | { kind: "literal"; text: string }
  | { kind: "param"; name: string; optional: boolean; constraint?: RegExp }
  | { kind: "catchAll"; name: string };

function parseSegment(raw: string, template: string): Segment {
  const m = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?(\?)?\}$/.exec(raw);
  if (!m) {
    if (raw.includes("{") || raw.includes("}")) throw new Error(`route "${template}": cannot parse segment "${raw}"`);
    return { kind: "literal", text: raw.toLowerCase() };
  }
  const [, star, name, constraint, optional] = m;
  if (star) return { kind: "catchAll", name: name! };
  if (constraint && !CONSTRAINTS[constraint]) throw new Error(`route "${template}": unknown constraint "${constraint}"`);
  return { kind: "param", name: name!, optional: Boolean(optional), constraint: constraint ? CONSTRAINTS[constraint] : undefined };
}

export function compileRoute(template: string): CompiledRoute {
  const segments = template.split("/").filter(Boolean).map((s) => parseSegment(s, template));
  segments.forEach((s, i) => {
    if (s.kind === "catchAll" && i !== segments.length - 1) throw new Error(`route "${template}": a catch-all must be last`);
  });
  return {
    template,
    match(path: string) {
      const parts = path.split("/").filter(Boolean);
      const params: Record<string, string> = {};
      let i = 0;
      for (const seg of segments) {
        if (seg.kind === "catchAll") {
          if (i < parts.length) params[seg.name] = parts.slice(i).map((p) => decodeSafe(p) ?? p).join("/");
          return params;
        }
        const part = parts[i];
        if (part === undefined) {
          if (seg.kind === "param" && seg.optional) continue;
          return undefined;
        }
        if (seg.kind === "literal") {
          if (decodeSafe(part)?.toLowerCase() !== seg.text) return undefined;
        } else {
          const value = decodeSafe(part);
          if (value === undefined || (seg.constraint && !seg.constraint.test(value))) return undefined;
          params[seg.name] = value;
        }
        i++;
      }
      return i === parts.length ? params : undefined;
    },
  };
}

function decodeSafe(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
