import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { request } from '../api.js';
import { DELIVERY_OUTCOMES } from '../operations.js';
import type { DeliveryOutcomeBucket } from '../schema.generated.js';
import { FormError, useQuery, useRefresh } from '../ui.js';

const HOURS = 24;
const HEIGHT = 160;
const HALF_HOUR = 1_800;

/** The outcomes, bottom to top of a bar, with the stylesheet's colour of each (the badges' text colours). */
const OUTCOMES = [
  { key: 'succeeded', color: '--ok' },
  { key: 'retrying', color: '--warn' },
  { key: 'failed', color: '--danger' },
] as const;

/**
 * uPlot's data for stacked bars: one x per hour (its middle, in seconds),
 * then the running totals from the top of the stack down (failed on top of
 * retrying on top of succeeded). Each series is drawn over the one before, so
 * the tallest (every attempt) shows only its failed part above the others.
 */
function stackedData(buckets: DeliveryOutcomeBucket[]): uPlot.AlignedData {
  const xs = buckets.map((bucket) => Date.parse(bucket.from) / 1_000 + HALF_HOUR);
  const upTo = (count: number) => buckets.map((bucket) => OUTCOMES.slice(0, count).reduce((sum, { key }) => sum + bucket[key], 0));
  return [xs, upTo(3), upTo(2), upTo(1)];
}

function chartOptions(width: number): uPlot.Options {
  const style = getComputedStyle(document.documentElement);
  const color = (variable: string) => style.getPropertyValue(variable).trim();
  const bars = uPlot.paths.bars!({ size: [0.8, 40], align: 0 });
  // Listed in drawing order: the top of the stack first (stackedData).
  const series = [...OUTCOMES].reverse().map(({ key, color: variable }) => ({ label: key, fill: color(variable), stroke: color(variable), width: 0, paths: bars, points: { show: false } }));
  const axis = { stroke: color('--muted'), grid: { stroke: color('--line'), width: 1 }, ticks: { stroke: color('--line'), width: 1 } };
  return {
    width,
    height: HEIGHT,
    // The numbers are in the table beside the chart; no hover legend or cursor to keep in step with it.
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: true }, y: { range: (_chart, _min, max) => [0, Math.max(4, max)] } },
    axes: [axis, { ...axis, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 100_000, 1_000_000], values: (_chart, splits) => splits.map(String), size: 44 }],
    series: [{}, ...series],
  };
}

/** A canvas chart of the buckets (uPlot), sized to its box; hidden from assistive technology, which reads the table. */
function StackedBars({ buckets }: { buckets: DeliveryOutcomeBucket[] }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  useEffect(() => {
    const element = box.current!;
    const plot = new uPlot(chartOptions(element.clientWidth), stackedData(buckets), element);
    chart.current = plot;
    let width = element.clientWidth;
    const resize = new ResizeObserver(() => {
      if (element.clientWidth === width) return;
      width = element.clientWidth;
      plot.setSize({ width, height: HEIGHT });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
    };
  }, []);
  useEffect(() => chart.current?.setData(stackedData(buckets)), [buckets]);
  return <div class="chart" ref={box} aria-hidden="true" />;
}

const hourOf = (iso: string): string => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** The chart's text alternative: every hour's counts, for screen readers (visually hidden). */
function OutcomesTable({ buckets }: { buckets: DeliveryOutcomeBucket[] }) {
  return (
    <table class="visually-hidden">
      <caption>Delivery attempts by hour, last {HOURS} hours</caption>
      <thead>
        <tr>
          <th scope="col">Hour from</th>
          <th scope="col">Succeeded</th>
          <th scope="col">Retrying</th>
          <th scope="col">Failed</th>
        </tr>
      </thead>
      <tbody>
        {buckets.map((bucket) => (
          <tr key={bucket.from}>
            <th scope="row">{hourOf(bucket.from)}</th>
            <td>{bucket.succeeded}</td>
            <td>{bucket.retrying}</td>
            <td>{bucket.failed}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A webhook endpoint's delivery attempts by outcome in the 24 hours of UTC up to this one (the current hour so far last),
 * hourly: the totals (which are the chart's legend), the stacked bars, and
 * the hours as a table for screen readers. Refreshed with the attempts below it.
 */
export function OutcomesPanel({ endpointId }: { endpointId: string }) {
  const outcomes = useQuery(() => request(DELIVERY_OUTCOMES, { id: endpointId, hours: HOURS }), [endpointId]);
  useRefresh(outcomes.reload);
  const buckets = outcomes.data?.endpoints.collectionItems[0]?.deliveryOutcomes;
  const total = (key: (typeof OUTCOMES)[number]['key']) => (buckets ?? []).reduce((sum, bucket) => sum + bucket[key], 0);
  return (
    <section class="panel" aria-labelledby="outcomes-title">
      <h3 id="outcomes-title">Delivery outcomes, last {HOURS} hours</h3>
      <FormError error={outcomes.error} />
      {buckets && (
        <>
          <p class="outcome-totals" data-testid="outcome-totals">
            Attempts:{' '}
            {OUTCOMES.map(({ key }, index) => (
              <span key={key} class="outcome-total">
                <span class={`swatch ${key}`} aria-hidden="true" />
                {total(key)} {key}
                {index < OUTCOMES.length - 1 ? ', ' : '.'}
              </span>
            ))}
          </p>
          <StackedBars buckets={buckets} />
          <OutcomesTable buckets={buckets} />
        </>
      )}
    </section>
  );
}
