/**
 * deploy/: the compose stack, the Kubernetes manifests and the Prometheus config, checked without a Docker engine or a
 * cluster: what they start, in what order, with which health checks; that every variable they set is one unstick's
 * configuration reads; that probes, ports and grace periods match what the webhook and the worker really do.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { parse, parseAllDocuments } from 'yaml';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/temporalServer';
import { buildProgram } from '../../src/cli';
import { ConfigError, loadConfig } from '../../src/config';
import { createWebhookServer } from '../../src/webhook';
import { createDiscoveryWorker, createWorker } from '../../src/worker';

const REPO = path.resolve(__dirname, '../..');
const DEPLOY = path.join(REPO, 'deploy');
const K8S = path.join(DEPLOY, 'k8s');
const read = (file: string): string => readFileSync(path.join(DEPLOY, file), 'utf8');
const yaml = <T>(file: string): T => parse(read(file), { merge: true }) as T;

/** Test credentials, valid in form. */
const CREDENTIALS = { TWILIO_ACCOUNT_SID: `AC${'a1'.repeat(16)}`, TWILIO_AUTH_TOKEN: 'test-token' };
/** Never in a compose `environment` or a ConfigMap: only in the env file or the Secret. */
const SECRETS = ['TWILIO_AUTH_TOKEN', 'TWILIO_API_SECRET', 'TEMPORAL_API_KEY'];

/**
 * Whether loadConfig reads `name`: set alone to a value no variable accepts as is, it either changes the
 * configuration or makes a problem line that names it. (src/config.ts keeps its variables in a schema it does not
 * export; this asks loadConfig itself.)
 */
const baseline = JSON.stringify(loadConfig({}));
function configReads(name: string): boolean {
  try {
    return JSON.stringify(loadConfig({ [name]: '#not-a-value#' })) !== baseline;
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.some((p) => p.includes(name));
    throw err;
  }
}

const portOf = (hostPort: string): number => Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
/** `worker`, `schedule apply`, …: what bin/unstick.js takes (the program is built once: its modules register hooks). */
let commands: string[] | undefined;
const cliCommands = (): string[] => (commands ??= buildProgram().commands.flatMap((c) => [c.name(), ...c.commands.map((sub) => `${c.name()} ${sub.name()}`)]));

/** The Dockerfile's user as a uid (the node images' `node` is 1000). */
function dockerfileUid(): number {
  const users = [...readFileSync(path.join(REPO, 'Dockerfile'), 'utf8').matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]!);
  const user = users.at(-1)!.split(':')[0]!;
  return /^\d+$/.test(user) ? Number(user) : ({ node: 1000 } as Record<string, number>)[user]!;
}

/** The longest shutdownGraceTime the worker gives its Worker.create calls (main and discovery worker), in ms. */
async function workerShutdownGraceMs(): Promise<number> {
  const seen: unknown[] = [];
  const w = Worker as unknown as { create: (o: unknown) => Promise<unknown> };
  const create = w.create;
  w.create = async (o: unknown) => (seen.push((o as { shutdownGraceTime?: unknown }).shutdownGraceTime), {});
  try {
    const base = { connection: {} as never, namespace: 'default', activities: {} };
    await createWorker({ ...base, taskQueue: 'unstick', workflowsPath: __filename });
    await createDiscoveryWorker({ ...base, ratePerSecond: 1 });
  } finally {
    w.create = create;
  }
  assert.equal(seen.length, 2);
  return Math.max(...seen.map((g) => msToNumber(g as never)));
}

// ─── compose ────────────────────────────────────────────────────────────────────────────────────────────────────────

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string> | string[];
  env_file?: Array<string | { path: string }>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
  restart?: string;
  volumes?: string[];
  configs?: Array<{ source: string; target: string }>;
}
interface Compose {
  services: Record<string, ComposeService>;
  configs?: Record<string, { content?: string }>;
}

function envOf(s: ComposeService): Record<string, string> {
  const e = s.environment ?? {};
  return Array.isArray(e) ? Object.fromEntries(e.map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)])) : e;
}

/** NAME=value lines of an env file; with `commented`, also the `# NAME=value` suggestions. */
function envFile(text: string, commented = false): Record<string, string> {
  const re = commented ? /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/ : /^([A-Z][A-Z0-9_]*)=(.*)$/;
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = re.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

describe('deploy: compose stack', () => {
  const compose = yaml<Compose>('compose.yaml');
  const s = compose.services;
  const UNSTICK = ['setup', 'schedule', 'worker', 'webhook'];
  const example = read('unstick.env.example');

  it('runs Temporal (server, schema, namespace, UI) on PostgreSQL, unstick\'s processes and Prometheus', () => {
    for (const name of ['postgres', 'temporal-schema', 'temporal', 'temporal-namespace', 'temporal-ui', ...UNSTICK, 'prometheus']) assert.ok(s[name], name);
    assert.equal(s['temporal']!.image, `temporalio/server:${TEMPORAL_SERVER_VERSION}`, 'the server the topology test builds');
    assert.equal(s['postgres']!.image, 'postgres:16');
    assert.ok(s['temporal-schema']!.image!.startsWith(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`));
    assert.match(s['temporal-ui']!.image!, /^temporalio\/ui:/);
    assert.match(s['prometheus']!.image!, /^prom\/prometheus:/);
  });

  it('starts unstick from the Dockerfile\'s image with commands bin/unstick.js has', () => {
    const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^ENTRYPOINT \["node", "bin\/unstick\.js"\]$/m, 'the service command is the CLI\'s argument');
    const commands = cliCommands();
    const want: Record<string, string> = { setup: 'setup', schedule: 'schedule apply', worker: 'worker', webhook: 'webhook' };
    for (const name of UNSTICK) {
      const svc = s[name]!;
      assert.equal(path.resolve(DEPLOY, svc.build!.context!, svc.build!.dockerfile ?? 'Dockerfile'), path.join(REPO, 'Dockerfile'), name);
      assert.ok(Array.isArray(svc.command), `${name}: command as a list`);
      assert.equal(svc.command.join(' '), want[name], name);
      assert.ok(commands.includes(svc.command.join(' ')), `${name}: \`unstick ${svc.command.join(' ')}\` exists`);
      assert.deepEqual(svc.env_file?.map((f) => (typeof f === 'string' ? f : f.path)), ['unstick.env'], `${name}: Twilio settings from the env file`);
    }
  });

  it('orders the start with depends_on conditions that can be met', () => {
    const want: Record<string, Record<string, string>> = {
      'temporal-schema': { postgres: 'service_healthy' },
      temporal: { 'temporal-schema': 'service_completed_successfully' },
      'temporal-namespace': { temporal: 'service_healthy' },
      setup: { 'temporal-namespace': 'service_completed_successfully' },
      schedule: { setup: 'service_completed_successfully' },
      worker: { temporal: 'service_healthy', setup: 'service_completed_successfully' },
      webhook: { temporal: 'service_healthy', setup: 'service_completed_successfully' },
    };
    for (const [name, deps] of Object.entries(want)) {
      for (const [dep, condition] of Object.entries(deps)) assert.equal(s[name]!.depends_on?.[dep]?.condition, condition, `${name} → ${dep}`);
    }
    for (const [name, svc] of Object.entries(s)) {
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
        assert.ok(s[dep], `${name} → ${dep} exists`);
        if (condition === 'service_healthy') assert.ok(s[dep]!.healthcheck?.test, `${name} waits for ${dep}'s healthcheck`);
        if (condition === 'service_completed_successfully') assert.match(s[dep]!.restart ?? 'no', /^(no|on-failure(:\d+)?)$/, `${dep} is one-shot`);
      }
    }
  });

  it('has healthchecks on what others wait for, the webhook\'s on /readyz and the worker\'s on its metrics port', () => {
    for (const name of ['postgres', 'temporal', 'worker', 'webhook', 'prometheus']) assert.ok(s[name]!.healthcheck?.test?.length, name);
    const webhookPort = Number(envOf(s['webhook']!)['WEBHOOK_PORT'] ?? loadConfig({}).webhook.port);
    assert.ok(s['webhook']!.healthcheck!.test!.join(' ').includes(`http://127.0.0.1:${webhookPort}/readyz`));
    const workerMetrics = portOf(envOf(s['worker']!)['UNSTICK_METRICS_ADDRESS']!);
    assert.ok(s['worker']!.healthcheck!.test!.join(' ').includes(`http://127.0.0.1:${workerMetrics}/metrics`));
  });

  it('configures the server as the production-topology test does (postgres12 stores, databases, shards, dynamic config)', () => {
    const helper = readFileSync(path.join(REPO, 'test/helpers/postgresTemporal.ts'), 'utf8');
    const env = envOf(s['temporal']!);
    assert.equal(env['DB'], /pluginName: (\S+)/.exec(helper)![1]);
    assert.equal(env['NUM_HISTORY_SHARDS'], /numHistoryShards: (\d+)/.exec(helper)![1]);
    assert.equal(env['DBNAME'], 'temporal');
    assert.equal(env['VISIBILITY_DBNAME'], 'temporal_visibility');
    for (const db of ['temporal', 'temporal_visibility']) assert.ok(helper.includes(`'${db}'`), db);
    const mounted = s['temporal']!.configs!.find((c) => c.target === env['DYNAMIC_CONFIG_FILE_PATH']);
    assert.ok(mounted, 'the dynamic config file is mounted where DYNAMIC_CONFIG_FILE_PATH says');
    assert.deepEqual(parse(compose.configs![mounted.source]!.content!), parse(/writeFileSync\(dynamicConfig, '([^']+)'\)/.exec(helper)![1]!.replace(/\\n/g, '\n')));
    const schema = [s['temporal-schema']!.command].flat().join('\n');
    for (const step of ['--plugin postgres12', 'create-database', 'setup-schema -v 0.0', 'update-schema', '/etc/temporal/schema/postgresql/v12/']) assert.ok(schema.includes(step), step);
  });

  it('sets only variables unstick reads, keeps secrets out of compose.yaml, and its values parse', () => {
    assert.equal(configReads('UNSTICK_NOT_A_SETTING'), false, 'the check tells an unknown name');
    const exampleVars = envFile(example, true);
    for (const name of Object.keys(exampleVars)) assert.ok(configReads(name), `unstick.env.example: ${name}`);
    for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN']) assert.equal(envFile(example)[name], '', `${name}: in the example, blank`);
    for (const name of UNSTICK) {
      const env = envOf(s[name]!);
      for (const k of Object.keys(env)) assert.ok(configReads(k), `${name}: ${k}`);
      for (const secret of SECRETS) assert.ok(!(secret in env), `${name}: ${secret} only in the env file`);
      assert.doesNotThrow(() => loadConfig({ ...envFile(example), ...CREDENTIALS, ...env }), name);
    }
    for (const [name, svc] of Object.entries(s)) for (const secret of SECRETS) assert.ok(!(secret in envOf(svc)), `${name}: no ${secret}`);
  });

  it('uses a glibc image for unstick (the Temporal core SDK has no musl build)', () => {
    const from = [...readFileSync(path.join(REPO, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    assert.ok(from.length > 0);
    for (const image of from) assert.doesNotMatch(image, /alpine|musl/i, image);
    for (const name of UNSTICK) assert.doesNotMatch(s[name]!.image ?? '', /alpine/i, name);
  });

  it('Prometheus loads alerts.yml and scrapes the worker\'s and the webhook\'s metrics addresses', () => {
    const prom = s['prometheus']!;
    assert.ok(prom.volumes!.includes('./prometheus:/etc/prometheus:ro'));
    assert.ok([prom.command].flat().includes('--config.file=/etc/prometheus/prometheus.yml'));
    const config = yaml<{ rule_files: string[]; scrape_configs: Array<{ job_name: string; metrics_path?: string; dns_sd_configs?: Array<{ names: string[]; port: number }>; static_configs?: Array<{ targets: string[] }> }> }>('prometheus/prometheus.yml');
    assert.deepEqual(config.rule_files.map((f) => path.resolve(DEPLOY, 'prometheus', f)), [path.join(DEPLOY, 'prometheus/alerts.yml')]);
    const targets = config.scrape_configs.flatMap((j) => [
      ...(j.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => `${n}:${d.port}${j.metrics_path ?? '/metrics'}`)),
      ...(j.static_configs ?? []).flatMap((c) => c.targets.map((t) => `${t}${j.metrics_path ?? '/metrics'}`)),
    ]);
    const worker = envOf(s['worker']!)['UNSTICK_METRICS_ADDRESS']!;
    const webhook = envOf(s['webhook']!);
    assert.ok(targets.includes(`worker:${portOf(worker)}/metrics`), `worker at ${worker}`);
    assert.ok(targets.includes(`webhook:${portOf(webhook['WEBHOOK_METRICS_ADDRESS']!)}/metrics`));
    assert.notEqual(portOf(webhook['WEBHOOK_METRICS_ADDRESS']!), Number(webhook['WEBHOOK_PORT']), 'metrics never on the port Twilio reaches');
  });
});

// ─── Kubernetes ─────────────────────────────────────────────────────────────────────────────────────────────────────

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name: string; containerPort: number }>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  restartPolicy?: string;
  initContainers?: Container[];
  containers: Container[];
}
interface Resource {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    minAvailable?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    ports?: Array<{ port: number; targetPort: string | number }>;
    template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

describe('deploy: Kubernetes manifests', () => {
  const kustomization = parse(readFileSync(path.join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images?: Array<{ name: string; newName?: string; newTag?: string }> };
  const all: Resource[] = kustomization.resources.flatMap((f) => parseAllDocuments(readFileSync(path.join(K8S, f), 'utf8')).map((d) => d.toJS() as Resource));
  const get = (kind: string, name: string): Resource => {
    const r = all.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(r, `${kind} ${name}`);
    return r;
  };
  const worker = get('Deployment', 'unstick-worker');
  const webhook = get('Deployment', 'unstick-webhook');
  const job = get('Job', 'unstick-setup');
  const configMap = get('ConfigMap', 'unstick-config');
  const secret = get('Secret', 'unstick-twilio');
  const podOf = (r: Resource): PodSpec => r.spec!.template!.spec;
  const containers = (r: Resource): Container[] => [...(podOf(r).initContainers ?? []), ...podOf(r).containers];
  const envOfContainer = (c: Container): Record<string, string> => ({
    ...Object.assign({}, ...(c.envFrom ?? []).map((f) => (f.configMapRef ? configMap.data : f.secretRef ? CREDENTIALS : {}))),
    ...Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? ''])),
  });

  it('kustomization.yaml lists every file of deploy/k8s, and each exists', () => {
    const files = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
    assert.deepEqual([...kustomization.resources].sort(), files);
    for (const f of kustomization.resources) assert.ok(existsSync(path.join(K8S, f)), f);
  });

  it('runs the glibc image as the Dockerfile\'s non-root user, with commands bin/unstick.js has', () => {
    const image = kustomization.images?.find((i) => i.name === 'unstick');
    assert.ok(image, 'the image is set in one place (kustomization images)');
    assert.doesNotMatch(`${image.newName}:${image.newTag}`, /alpine/i);
    const commands = cliCommands();
    for (const r of [worker, webhook, job]) {
      assert.equal(podOf(r).securityContext?.runAsNonRoot, true, r.metadata.name);
      assert.equal(podOf(r).securityContext?.runAsUser, dockerfileUid(), `${r.metadata.name}: the Dockerfile's USER, numeric`);
      for (const c of containers(r)) {
        assert.equal(c.image, 'unstick', `${r.metadata.name}/${c.name}`);
        assert.ok(commands.includes(c.args!.join(' ')), `${r.metadata.name}/${c.name}: unstick ${c.args!.join(' ')}`);
        assert.ok(c.resources?.requests?.['cpu'] && c.resources.requests['memory'] && c.resources.limits?.['cpu'] && c.resources.limits['memory'], `${c.name}: requests and limits`);
      }
    }
    assert.deepEqual(podOf(job).initContainers!.map((c) => c.args), [['setup']], 'search attributes first');
    assert.deepEqual(podOf(job).containers.map((c) => c.args), [['schedule', 'apply']]);
    assert.equal(podOf(job).restartPolicy, 'Never');
  });

  it('sets only variables unstick reads, from the ConfigMap and the Secret; the placeholders stop a pod at once', () => {
    for (const k of [...Object.keys(configMap.data!), ...Object.keys(secret.stringData!)]) assert.ok(configReads(k), k);
    for (const k of SECRETS) assert.ok(!(k in configMap.data!), `${k} not in the ConfigMap`);
    for (const r of [worker, webhook, job]) {
      for (const c of containers(r)) {
        const refs = (c.envFrom ?? []).map((f) => f.configMapRef?.name ?? f.secretRef?.name);
        assert.deepEqual(refs, ['unstick-config', 'unstick-twilio'], `${c.name}: env from the ConfigMap and the Secret`);
        for (const e of c.env ?? []) assert.ok(configReads(e.name), `${c.name}: ${e.name}`);
        assert.doesNotThrow(() => loadConfig(envOfContainer(c)), c.name);
      }
    }
    assert.throws(() => loadConfig({ ...configMap.data, ...secret.stringData }), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.includes('TWILIO_ACCOUNT_SID')));
  });

  it('worker: ≥ 2 replicas, a grace period beyond shutdownGraceTime, its metrics port scraped', async () => {
    assert.ok(worker.spec!.replicas! >= 2);
    const graceMs = await workerShutdownGraceMs();
    assert.ok(podOf(worker).terminationGracePeriodSeconds! * 1000 >= graceMs + 10_000, `terminationGracePeriodSeconds beyond ${graceMs} ms + 10 s`);
    const c = podOf(worker).containers[0]!;
    const metricsPort = portOf(envOfContainer(c)['UNSTICK_METRICS_ADDRESS']!);
    assert.equal(c.ports!.find((p) => p.name === 'metrics')?.containerPort, metricsPort);
    assert.equal(worker.spec!.template!.metadata!.annotations!['prometheus.io/port'], String(metricsPort));
    assert.equal(worker.spec!.template!.metadata!.annotations!['prometheus.io/scrape'], 'true');
  });

  it('webhook: /healthz liveness and /readyz readiness on the port it listens on, which the Service targets', async () => {
    const c = podOf(webhook).containers[0]!;
    const env = envOfContainer(c);
    const config = loadConfig(env);
    const http = c.ports!.find((p) => p.name === 'http')!;
    assert.equal(http.containerPort, config.webhook.port);
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    for (const probe of [c.livenessProbe!, c.readinessProbe!]) assert.ok([http.name, http.containerPort].includes(probe.httpGet!.port));
    const metricsPort = portOf(config.webhook.metricsAddress!);
    assert.equal(c.ports!.find((p) => p.name === 'metrics')?.containerPort, metricsPort);
    assert.equal(webhook.spec!.template!.metadata!.annotations!['prometheus.io/port'], String(metricsPort));

    // The routes are the webhook's own: 200 while Temporal answers, 503 on /readyz when it does not.
    for (const [up, ready] of [[true, 200], [false, 503]] as const) {
      const client = { withDeadline: (_d: number, fn: () => Promise<unknown>) => fn(), connection: { workflowService: { getSystemInfo: async () => (up ? {} : Promise.reject(new Error('down'))) } } };
      const app = createWebhookServer({ config, client: client as unknown as Client, readinessTimeoutMs: 200, log: pino({ level: 'silent' }) });
      try {
        assert.equal((await app.inject({ method: 'GET', url: c.livenessProbe!.httpGet!.path })).statusCode, 200);
        assert.equal((await app.inject({ method: 'GET', url: c.readinessProbe!.httpGet!.path })).statusCode, ready);
      } finally {
        await app.close();
      }
    }
    const service = get('Service', 'unstick-webhook');
    assert.deepEqual(service.spec!.selector, webhook.spec!.selector!.matchLabels);
    assert.ok(service.spec!.ports!.every((p) => p.targetPort === http.name || p.targetPort === http.containerPort));
  });

  it('webhook: preStop, then a grace period beyond the request budget; each Deployment has a PodDisruptionBudget', () => {
    const c = podOf(webhook).containers[0]!;
    const preStop = c.lifecycle?.preStop?.exec?.command;
    assert.ok(preStop && preStop[0] === 'sleep', 'preStop sleeps while the endpoints drop the pod');
    const budgetMs = loadConfig(envOfContainer(c)).webhook.requestBudgetMs!;
    assert.ok(podOf(webhook).terminationGracePeriodSeconds! * 1000 > Number(preStop[1]) * 1000 + budgetMs, 'preStop + request budget fit in the grace period');
    for (const d of [worker, webhook]) {
      const pdb = all.find((r) => r.kind === 'PodDisruptionBudget' && JSON.stringify(r.spec!.selector!.matchLabels) === JSON.stringify(d.spec!.selector!.matchLabels));
      assert.ok(pdb, `${d.metadata.name}: a PodDisruptionBudget`);
      assert.ok(pdb.spec!.minAvailable! < d.spec!.replicas!, `${d.metadata.name}: a node can still be drained`);
      assert.deepEqual(d.spec!.selector!.matchLabels, Object.fromEntries(Object.entries(d.spec!.template!.metadata!.labels!).filter(([k]) => k in d.spec!.selector!.matchLabels!)));
    }
  });
});
