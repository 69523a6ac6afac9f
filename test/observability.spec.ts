import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../scripts/local-stack.js';

/**
 * The Grafana dashboard and the Prometheus alert rules of deploy/: the rules
 * pass promtool's check and its unit tests (alerts.test.yaml), every alert
 * links a runbook section that exists, and every query names metrics the
 * apps export (docs/operations.md, "Metrics").
 */
const root = projectRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The apps' metrics (docs/operations.md: Metrics); histograms also as their _bucket, _sum and _count series. */
const COUNTERS_AND_GAUGES = [
  'event_service_events_ingested_total',
  'event_service_events_rejected_total',
  'event_service_events_lost_total',
  'event_service_events_routed_total',
  'event_service_deliveries_published_total',
  'event_service_websocket_connections',
  'event_service_websocket_frames_sent_total',
  'event_service_webhook_attempts_total',
  'event_service_webhook_parked_total',
  'event_service_consumer_pending_messages',
  'event_service_consumer_ack_pending',
  'event_service_dead_letters_total',
];
const HISTOGRAMS = ['event_service_webhook_attempt_duration_seconds', 'event_service_delivery_latency_seconds', 'event_service_webhook_success_latency_seconds'];
const METRICS = new Set([...COUNTERS_AND_GAUGES, ...HISTOGRAMS]);
/** What a series name in a query stands for: a histogram's series count as the histogram. */
const metricOf = (series: string) => series.replace(/_(bucket|sum|count)$/, (suffix) => (HISTOGRAMS.includes(series.slice(0, -suffix.length)) ? '' : suffix));
const metricsIn = (expr: string) => [...expr.matchAll(/\bevent_service_[a-z_]+/g)].map(([series]) => metricOf(series));

/** GitHub's anchor of a Markdown heading. */
const anchorOf = (heading: string) => heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');
const operationsAnchors = new Set([...read('docs/operations.md').matchAll(/^#{2,4} (.+)$/gm)].map(([, heading]) => anchorOf(heading!)));

type Rule = { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> };
const rules = (parse(read('deploy/prometheus/alerts.yaml')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((group) => group.rules);

describe('deploy/prometheus/alerts.yaml', () => {
  const promtool = spawnSync('promtool', ['--version']).status === 0;

  it('is installed: promtool (Debian package prometheus; .ci/run installs it)', () => {
    expect(promtool).toBe(true);
  });

  it('passes promtool check rules', () => {
    expect(execFileSync('promtool', ['check', 'rules', 'alerts.yaml'], { cwd: join(root, 'deploy/prometheus'), encoding: 'utf8' })).toMatch(/SUCCESS: 6 rules found/);
  });

  it('fires what its unit tests expect on their input series (promtool test rules alerts.test.yaml)', () => {
    const run = spawnSync('promtool', ['test', 'rules', 'alerts.test.yaml'], { cwd: join(root, 'deploy/prometheus'), encoding: 'utf8' });
    expect([run.status, run.stdout + run.stderr]).toEqual([0, expect.stringContaining('SUCCESS')]);
    // Every alert is fed series in the unit tests, firing or not.
    const tested = new Set([...read('deploy/prometheus/alerts.test.yaml').matchAll(/alertname: (\w+)/g)].map(([, name]) => name));
    expect(rules.map((rule) => rule.alert).filter((alert) => !tested.has(alert))).toEqual([]);
  });

  it('covers consumer lag, dead letters, failing webhooks and pods not ready', () => {
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(['EventServiceConsumerLag', 'EventServiceDeadLetters', 'EventServiceWebhookFailures', 'EventServiceNotReady']),
    );
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('%s has a severity, a summary and a runbook section of docs/operations.md that exists, under runbook_base', (_alert, rule) => {
    expect(['warning', 'critical']).toContain(rule.labels.severity);
    expect(rule.annotations.summary).toEqual(expect.any(String));
    // The docs' address is the deployment's (the external label runbook_base), never a placeholder host.
    const runbook = /^\{\{ \$externalLabels\.runbook_base \}\}\/operations\.md#([a-z0-9_-]+)$/.exec(rule.annotations.runbook_url ?? '');
    expect([rule.annotations.runbook_url, runbook?.[1] !== undefined && operationsAnchors.has(runbook[1])]).toEqual([rule.annotations.runbook_url, true]);
  });

  it('names no example.com host, and its unit tests give every group the runbook_base label Prometheus must set', () => {
    for (const file of ['deploy/prometheus/alerts.yaml', 'deploy/prometheus/alerts.test.yaml']) expect([file, /example\.com/i.test(read(file))]).toEqual([file, false]);
    const tests = (parse(read('deploy/prometheus/alerts.test.yaml')) as { tests: Array<{ name: string; external_labels?: Record<string, string> }> }).tests;
    for (const test of tests) expect([test.name, test.external_labels?.runbook_base]).toEqual([test.name, expect.stringMatching(/^https:\/\/\S+[^/]$/)]);
    expect(read('docs/operations.md')).toMatch(/global\.external_labels\.runbook_base/);
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('%s queries only metrics the apps export (or kube-state-metrics and up)', (_alert, rule) => {
    expect(metricsIn(rule.expr).filter((metric) => !METRICS.has(metric))).toEqual([]);
    const others = [...rule.expr.matchAll(/\b([a-z_]+)\{/g)].map(([, name]) => name!).filter((name) => !name.startsWith('event_service_'));
    for (const name of others) expect(['kube_pod_status_ready', 'up']).toContain(name);
  });
});

describe('deploy/grafana/event-service.json', () => {
  type Panel = { id: number; type: string; title: string; targets?: Array<{ refId: string; expr: string }> };
  const dashboard = JSON.parse(read('deploy/grafana/event-service.json')) as { uid: string; title: string; panels: Panel[] };

  it('is a dashboard whose panels have unique ids', () => {
    expect(dashboard.uid).toBe('event-service');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
  });

  it.each(dashboard.panels.map((panel) => [panel.title, panel] as const))(
    '%s queries only metrics the apps export',
    (_title, panel) => {
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets!) {
        const metrics = metricsIn(target.expr);
        expect([target.expr, metrics.length > 0]).toEqual([target.expr, true]);
        expect(metrics.filter((metric) => !METRICS.has(metric))).toEqual([]);
      }
      expect(new Set(panel.targets!.map((target) => target.refId)).size).toBe(panel.targets!.length);
    },
  );

  it('shows every metric: throughput, lag per consumer, delivery latency, webhook outcomes, connections and dead letters', () => {
    const shown = new Set(dashboard.panels.flatMap((panel) => panel.targets ?? []).flatMap((target) => metricsIn(target.expr)));
    expect([...METRICS].filter((metric) => !shown.has(metric))).toEqual([]);
    const lag = dashboard.panels.find((panel) => panel.targets?.some((target) => target.expr.includes('event_service_consumer_pending_messages')));
    expect(lag?.targets?.[0]?.expr).toMatch(/max by \(consumer\)/);
  });
});
