/** Data that refreshes itself: a loader called now and every `everyMs` while the page shows. */
import { useEffect, useState } from "preact/hooks";
import { Unauthorized } from "./api.js";

export interface Live<T> {
  data?: T;
  error?: string;
  unauthorized?: boolean;
}

export function useLive<T>(load: () => Promise<T>, deps: unknown[], everyMs = 2000): Live<T> {
  const [state, setState] = useState<Live<T>>({});
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const tick = async () => {
      try {
        const data = await load();
        if (!stopped) setState({ data });
      } catch (err) {
        if (!stopped) setState((s) => ({ ...s, error: (err as Error).message, unauthorized: err instanceof Unauthorized }));
      }
      if (!stopped && everyMs > 0) timer = window.setTimeout(tick, everyMs);
    };
    setState({});
    void tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, deps);
  return state;
}
