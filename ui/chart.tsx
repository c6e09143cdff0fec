/**
 * Chart.js on a canvas, with only the parts the pages use registered (so the bundle
 * stays small). A chart is redrawn in place when its data changes; every chart has a
 * text alternative (its `label`), and each page shows the same figures in a table.
 */
import { useEffect, useRef } from "preact/hooks";
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartConfiguration,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Filler, Legend, Tooltip);
Chart.defaults.color = "#1f2933";
Chart.defaults.font.family = "system-ui, sans-serif";

/** Colour-blind-safe (Okabe–Ito), dark enough on white. */
export const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

export function ChartView(props: { config: ChartConfiguration; label: string; height?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    if (chart.current) {
      chart.current.data = props.config.data;
      chart.current.update("none");
    } else {
      chart.current = new Chart(canvas.current, { ...props.config, options: { animation: false, maintainAspectRatio: false, responsive: true, ...props.config.options } });
    }
  }, [props.config]);
  useEffect(() => () => chart.current?.destroy(), []);
  return (
    <div class="chart" style={{ height: `${props.height ?? 260}px` }}>
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </div>
  );
}
