import type { DailyVisits } from "../../core/sharing.js";
import { html, type SafeHtml } from "../html.js";

/** Each day is 10 units wide and the plot 100 high; the SVG stretches to its box. */
const SLOT = 10;
const BAR = 7;
const PLOT = 100;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `2026-11-25`, in UTC. */
function isoDay(day: Date): string {
  return day.toISOString().slice(0, 10);
}

function shortDay(day: Date): string {
  return `${day.getUTCDate()} ${MONTHS[day.getUTCMonth()]}`;
}

function visitsText(count: number): string {
  return `${count} visit${count === 1 ? "" : "s"}`;
}

/** A round, even number at or above `max`, so the axis and its midpoint read well. */
function axisMax(max: number): number {
  if (max <= 2) return 2;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 4, 6, 8, 10]) {
    if (step * magnitude >= max && (step * magnitude) % 2 === 0) return step * magnitude;
  }
  return 10 * magnitude;
}

/**
 * Visits per day as an SVG bar chart drawn on the server: one `<rect class="bar">` per day, a
 * `<title>` and `<desc>`, an `aria-label` summing it up, and the numbers again in a visually
 * hidden table for screen readers.
 */
export function visitsChart(
  days: readonly DailyVisits[],
  options: { id: string; caption: string },
) {
  const total = days.reduce((sum, d) => sum + d.visits, 0);
  const busiest = days.reduce<DailyVisits | null>(
    (best, d) => (d.visits > 0 && (best === null || d.visits > best.visits) ? d : best),
    null,
  );
  const first = days[0];
  const last = days[days.length - 1];
  const span = first && last ? `${isoDay(first.day)} to ${isoDay(last.day)}` : "no days";
  const summary =
    `${options.caption}: ${visitsText(total)} from ${span}` +
    (busiest ? `, most on ${isoDay(busiest.day)} (${busiest.visits}).` : ".");

  const top = axisMax(Math.max(0, ...days.map((d) => d.visits)));
  const width = Math.max(1, days.length) * SLOT;
  const fixed = (n: number) => Number(n.toFixed(2));
  const bars = days.map((d, index) => {
    const height = fixed((d.visits / top) * PLOT);
    return html`<rect class="bar" x="${index * SLOT + (SLOT - BAR) / 2}" y="${fixed(PLOT - height)}" width="${BAR}" height="${height}"><title>${isoDay(d.day)}: ${visitsText(d.visits)}</title></rect>`;
  });
  const middle = days[Math.floor((days.length - 1) / 2)];
  const descId = `${options.id}-desc`;

  return html`<figure class="chart">
<div class="plot">
<div class="y-axis" aria-hidden="true"><span>${top}</span><span>${top / 2}</span><span>0</span></div>
<svg viewBox="0 0 ${width} ${PLOT}" preserveAspectRatio="none" role="img" aria-label="${options.caption}" aria-describedby="${descId}" focusable="false">
<title>${options.caption}</title>
<desc id="${descId}">${summary}</desc>
<line class="gridline" x1="0" x2="${width}" y1="0.5" y2="0.5" vector-effect="non-scaling-stroke"></line>
<line class="gridline" x1="0" x2="${width}" y1="${PLOT / 2}" y2="${PLOT / 2}" vector-effect="non-scaling-stroke"></line>
${bars}
<line class="axis" x1="0" x2="${width}" y1="${PLOT}" y2="${PLOT}" vector-effect="non-scaling-stroke"></line>
</svg>
<div class="x-axis" aria-hidden="true">${first ? html`<span>${shortDay(first.day)}</span>` : ""}${middle && days.length > 2 ? html`<span>${shortDay(middle.day)}</span>` : ""}${last && days.length > 1 ? html`<span>${shortDay(last.day)}</span>` : ""}</div>
</div>
<figcaption>${summary}</figcaption>
${daysTable(days, options.caption)}
</figure>`;
}

function daysTable(days: readonly DailyVisits[], caption: string): SafeHtml {
  return html`<table class="visually-hidden">
<caption>${caption}</caption>
<thead><tr><th scope="col">Day</th><th scope="col">Visits</th></tr></thead>
<tbody>${days.map((d) => html`<tr><td>${isoDay(d.day)}</td><td>${d.visits}</td></tr>`)}</tbody>
</table>`;
}
