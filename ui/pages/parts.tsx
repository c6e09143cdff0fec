/** Small pieces the pages share. */
import type { Live } from "../live.js";

export function Select(props: { id: string; label: string; value: string; onChange(v: string): void; options: string[]; all?: string }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        <option value="">{props.all ?? "all"}</option>
        {props.options.map((o) => <option value={o}>{o}</option>)}
      </select>
    </div>
  );
}

export function Problem(props: { live: Live<unknown> }) {
  if (!props.live.error) return null;
  return <p role="alert" class="error">{props.live.unauthorized ? "The API refused the function key: use Forget key and enter it again." : props.live.error}</p>;
}

/** A definition list of label → value pairs. */
export function Facts(props: { items: [string, unknown][] }) {
  return (
    <dl class="facts">
      {props.items.filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => (
        <div><dt>{k}</dt><dd data-fact={k}>{v as string}</dd></div>
      ))}
    </dl>
  );
}
