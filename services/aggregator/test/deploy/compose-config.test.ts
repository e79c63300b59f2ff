// docker-compose.yml, the Dockerfiles and every config under deploy/ agree with the services'
// configuration schemas: variables each service accepts, ports, topics, the Collector's encoding.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEMO_ENV_VARS, loadDemoConfig } from '@costtrace/demo-inference';
import { loadConfig as loadPricingConfig, PRICING_CACHE_ENV_VARS } from '@costtrace/pricing-cache';
import {
  AGGREGATOR_BUDGETS_SWITCH_ENV,
  AGGREGATOR_ENV_VARS,
  BUDGETS_ENV_VARS,
  loadBudgetsConfig,
  loadConfig,
} from '../../src/index.js';
import {
  ROOT,
  compose,
  deployFiles,
  dockerfileCmd,
  envExample,
  hostPort,
  readText,
  readYaml,
  serviceEnv,
  yamlDocuments,
} from './deploy-files.js';

const AGGREGATOR_VARS = new Set([...AGGREGATOR_ENV_VARS, ...BUDGETS_ENV_VARS, AGGREGATOR_BUDGETS_SWITCH_ENV]);
/** What `costtrace migrate` reads (packages/cli/src/clickhouse-from-env.ts). */
const MIGRATE_VARS = new Set(['CLICKHOUSE_URL', 'CLICKHOUSE_DATABASE', 'CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD']);
const AGGREGATORS = ['aggregator-1', 'aggregator-2'];
const SECRET_VARS = ['CLICKHOUSE_PASSWORD', 'WEBHOOK_SECRET', 'GF_SECURITY_ADMIN_PASSWORD'];

function assertKnown(service: string, env: Record<string, string>, known: ReadonlySet<string>): void {
  const unknown = Object.keys(env).filter((k) => !known.has(k));
  assert.deepEqual(unknown, [], `${service} sets variables its configuration does not read`);
}

function readyPort(service: string): number {
  const test = compose().services[service]?.healthcheck?.test.join(' ') ?? '';
  const m = /127\.0\.0\.1:(\d+)\/(readyz|healthz)/.exec(test);
  assert.ok(m, `${service} has a readiness health check`);
  return Number(m[1]);
}

describe('docker-compose.yml', () => {
  const file = compose();
  const services = file.services;

  it('parses and has every service of the stack', () => {
    for (const name of [
      'kafka',
      'kafka-init',
      'clickhouse',
      'migrate',
      'pricing-cache',
      ...AGGREGATORS,
      'otel-collector',
      'demo-inference',
      'demo-load',
      'webhook-receiver',
      'prometheus',
      'grafana',
    ]) {
      assert.ok(services[name], `service ${name}`);
    }
  });

  it('aggregators: every variable is one the aggregator reads, and the config loads', () => {
    for (const name of AGGREGATORS) {
      const env = serviceEnv(services[name]!);
      assertKnown(name, env, AGGREGATOR_VARS);
      const config = loadConfig({}, env);
      loadBudgetsConfig({}, env);
      assert.equal(config.consumerGroupId, 'costtrace-aggregator', 'both replicas in one consumer group');
      assert.equal(readyPort(name), config.apiPort, `${name} health check probes the API port`);
      assert.ok(
        services[name]!.ports?.some((p) => p.endsWith(`:${config.apiPort}`)),
        `${name} publishes its API port`,
      );
      assert.equal(config.apiHost, '0.0.0.0');
    }
    const [a, b] = AGGREGATORS.map((n) => serviceEnv(services[n]!));
    assert.notEqual(a!.COSTTRACE_INSTANCE_ID, b!.COSTTRACE_INSTANCE_ID, 'distinct instance ids');
  });

  it('pricing-cache: variables known, config loads, ports line up', () => {
    const env = serviceEnv(services['pricing-cache']!);
    assertKnown('pricing-cache', env, new Set(PRICING_CACHE_ENV_VARS));
    const config = loadPricingConfig({}, { ...env, COSTTRACE_PRICING_OVERRIDES_FILE: undefined });
    assert.equal(readyPort('pricing-cache'), config.httpPort);
    const demo = serviceEnv(services['demo-inference']!);
    assert.equal(hostPort(demo.COSTTRACE_PRICING_ADDRESS!).port, config.port, 'demo reaches the gRPC port');
    assert.equal(hostPort(demo.COSTTRACE_PRICING_ADDRESS!).host, 'pricing-cache');
  });

  it('demo-inference and its load generator: variables known (required ones set), ports line up', () => {
    const aggregator = loadConfig({}, serviceEnv(services['aggregator-1']!));
    const env = serviceEnv(services['demo-inference']!);
    assertKnown('demo-inference', env, new Set(DEMO_ENV_VARS));
    const config = loadDemoConfig({}, env); // throws when a required variable (the OTLP endpoint) is missing
    assert.equal(readyPort('demo-inference'), config.httpPort);
    const otlp = hostPort(config.otlpEndpoint!);
    assert.ok(AGGREGATORS.includes(otlp.host));
    assert.equal(otlp.port, config.otlpProtocol === 'grpc' ? aggregator.grpcPort : aggregator.httpPort);
    assert.equal(hostPort(config.throttleUrl!).port, aggregator.apiPort);
    const load = serviceEnv(services['demo-load']!);
    assertKnown('demo-load', load, new Set(DEMO_ENV_VARS));
    const loadConfigValue = loadDemoConfig({}, load);
    assert.equal(loadConfigValue.mode, 'load');
    assert.equal(hostPort(loadConfigValue.targetUrl).host, 'demo-inference');
    assert.equal(hostPort(loadConfigValue.targetUrl).port, config.httpPort);
  });

  it('the webhook receiver: variables it reads, health check on its port, budgets point at it', () => {
    const receiver = compose().services['webhook-receiver']!;
    const source = readText('deploy/webhook-receiver/receiver.mjs');
    const reads = new Set([...source.matchAll(/process\.env\.([A-Z_]+)/g)].map((m) => m[1]!));
    const env = serviceEnv(receiver);
    assertKnown('webhook-receiver', env, reads);
    assert.equal(readyPort('webhook-receiver'), Number(env.PORT));
    const budgets = readText('deploy/budgets/budgets.template.yaml');
    assert.match(budgets, new RegExp(`url: http://webhook-receiver:${env.PORT}/`));
  });

  it('migrate runs `costtrace migrate` with the ClickHouse variables only', () => {
    const migrate = services.migrate!;
    assert.deepEqual(migrate.command?.slice(-1), ['migrate']);
    assert.ok(existsSync(join(ROOT, 'packages/cli/src/bin.ts')));
    assertKnown('migrate', serviceEnv(migrate), MIGRATE_VARS);
  });

  it('starts in order: health checks and depends_on conditions reference real services', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        assert.ok(services[dep], `${name} depends on unknown ${dep}`);
        assert.ok(
          ['service_healthy', 'service_completed_successfully', 'service_started'].includes(condition),
          `${name} -> ${dep}: ${condition}`,
        );
        if (condition === 'service_healthy') assert.ok(services[dep].healthcheck, `${dep} needs a health check`);
      }
    }
    for (const name of AGGREGATORS) {
      const deps = services[name]!.depends_on ?? {};
      assert.equal(deps['kafka-init']?.condition, 'service_completed_successfully');
      assert.equal(deps.migrate?.condition, 'service_completed_successfully');
    }
  });

  it('uses named volumes only where declared, and no secrets', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.') || source.startsWith('/')) {
          assert.ok(existsSync(join(ROOT, source)), `${name} mounts missing ${source}`);
        } else {
          assert.ok(source in file.volumes, `${name} uses undeclared volume ${source}`);
        }
      }
      for (const key of SECRET_VARS) {
        const raw = service.environment?.[key];
        if (raw !== undefined) assert.match(String(raw), /^\$\{[A-Z_]+:\?/, `${name}.${key} must come from .env`);
      }
    }
    const example = envExample();
    for (const key of ['CLICKHOUSE_PASSWORD', 'WEBHOOK_SECRET', 'GRAFANA_ADMIN_PASSWORD']) assert.ok(key in example);
  });

  it('one Dockerfile per service: multi-stage, pinned base, non-root, CMD runs the built entrypoint', () => {
    for (const name of ['aggregator', 'pricing-cache', 'demo-inference']) {
      const path = `services/${name}/Dockerfile`;
      const text = readText(path);
      assert.match(text, /ARG NODE_IMAGE=node:20\.\d+-bookworm-slim/);
      assert.equal(text.match(/^FROM /gm)?.length, 2, `${path} is multi-stage`);
      assert.match(text, /^USER node$/m);
      const cmd = dockerfileCmd(path);
      assert.equal(cmd[1], `services/${name}/dist/src/main.js`);
      const built = Object.values(services).filter((s) => s.build?.dockerfile === path);
      assert.equal(built.length, 1, `${path} is built once by compose`);
      // `npm ci` in the build stage needs every workspace's package.json.
      const workspaces = (JSON.parse(readText('package.json')) as { workspaces: string[] }).workspaces;
      for (const ws of workspaces) assert.ok(text.includes(`COPY ${ws}/package.json ${ws}/\n`), `${path} copies ${ws}`);
    }
    assert.ok(existsSync(join(ROOT, '.dockerignore')));
    // Services that reuse a locally built image never try to pull it.
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined || !service.image?.startsWith('costtrace/')) continue;
      assert.equal(service.pull_policy, 'never', `${name} pull_policy`);
      assert.ok(
        Object.values(services).some((s) => s.build !== undefined && s.image === service.image),
        `${name}: some service builds ${service.image}`,
      );
    }
  });
});

describe('deploy/ configs', () => {
  it('every YAML and JSON file under deploy/ parses', () => {
    for (const path of deployFiles()) {
      if (/\.ya?ml$/.test(path)) assert.ok(yamlDocuments(path).length > 0, path);
      if (path.endsWith('.json')) JSON.parse(readText(path));
    }
  });

  it('the Collector exports otlp_proto to the topic the aggregators consume', () => {
    interface Collector {
      exporters: {
        kafka: { brokers: string[]; traces: { topic: string; encoding: string }; partition_traces_by_id?: boolean };
      };
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
      receivers: { otlp: unknown };
    }
    const collector = readYaml<Collector>('deploy/otel-collector/config.yaml');
    const aggregator = loadConfig({}, serviceEnv(compose().services['aggregator-1']!));
    assert.equal(collector.exporters.kafka.traces.topic, aggregator.spansTopic);
    assert.equal(collector.exporters.kafka.traces.encoding, 'otlp_proto');
    // A trace's spans share a partition: the one-charge-per-call ledger compares them there.
    assert.equal(collector.exporters.kafka.partition_traces_by_id, true);
    assert.deepEqual(collector.service.pipelines.traces.exporters, ['kafka']);
    assert.deepEqual(collector.service.pipelines.traces.receivers, ['otlp']);
    const env = serviceEnv(compose().services['otel-collector']!);
    assert.deepEqual(env.KAFKA_BROKERS!.split(','), [...aggregator.kafkaBrokers]);
  });

  it('create-topics.sh creates every topic the aggregators use; throttles are compacted', () => {
    const script = readText('deploy/kafka/create-topics.sh');
    const env = serviceEnv(compose().services['aggregator-1']!);
    const config = loadConfig({}, env);
    const budgets = loadBudgetsConfig({}, env);
    const specs = new Map(
      [...script.matchAll(/"([A-Za-z0-9._-]+):(?:\$\{[^}]*\}|\d+):(delete|compact)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    for (const topic of [
      config.spansTopic,
      config.deadLetterTopic,
      budgets.costDeltasTopic,
      budgets.costDeltasDeadLetterTopic,
    ]) {
      assert.equal(specs.get(topic), 'delete', topic);
    }
    assert.equal(specs.get(budgets.throttlesTopic), 'compact');
  });

  it('Prometheus scrapes every service at its metrics port', () => {
    interface Prom {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
      rule_files: string[];
    }
    const prom = readYaml<Prom>('deploy/prometheus/prometheus.yml');
    const services = compose().services;
    const targets = new Map(prom.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((s) => s.targets)]));
    const aggregatorPort = loadConfig({}, serviceEnv(services['aggregator-1']!)).apiPort;
    assert.deepEqual(
      targets.get('aggregator'),
      AGGREGATORS.map((n) => `${n}:${aggregatorPort}`),
    );
    const pricing = loadPricingConfig(
      {},
      { ...serviceEnv(services['pricing-cache']!), COSTTRACE_PRICING_OVERRIDES_FILE: undefined },
    );
    assert.deepEqual(targets.get('pricing-cache'), [`pricing-cache:${pricing.httpPort}`]);
    const demo = loadDemoConfig({}, serviceEnv(services['demo-inference']!));
    assert.deepEqual(targets.get('demo-inference'), [`demo-inference:${demo.httpPort}`]);
    assert.deepEqual(targets.get('otel-collector'), ['otel-collector:8888']);
    for (const rules of prom.rule_files) {
      assert.ok(existsSync(join(ROOT, 'deploy/prometheus', rules.split('/').at(-1)!)), rules);
    }
  });

  it('Prometheus alert rules and the pipeline dashboard use only metrics the services export', () => {
    interface Rules {
      groups: { rules: { alert: string; expr: string }[] }[];
    }
    const known = metricNames();
    const rules = readYaml<Rules>('deploy/prometheus/alerts.yml').groups.flatMap((g) => g.rules);
    assert.ok(rules.length >= 4);
    const dashboard = JSON.parse(readText('deploy/grafana/dashboards/costtrace-pipeline.json')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = [
      ...rules.map((r) => ({ name: r.alert, expr: r.expr })),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ name: p.title, expr: t.expr }))),
    ];
    for (const { name, expr } of exprs) {
      for (const metric of expr.match(/costtrace_[a-z_]+/g) ?? []) {
        assert.ok(known.has(metric.replace(/_(bucket|sum|count)$/, '')), `${name}: ${metric}`);
      }
    }
  });
});

/** Metric names registered in services/*\/src (prom-client `name: 'costtrace_…'`). */
export function metricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const path of deployFilesUnder(dir)) {
      for (const m of readText(path).matchAll(/name: '(costtrace_[a-z_]+)'/g)) names.add(m[1]!);
    }
  };
  for (const service of ['aggregator', 'pricing-cache', 'demo-inference']) walk(`services/${service}/src`);
  return names;
}

function deployFilesUnder(dir: string): string[] {
  return deployFiles(join(ROOT, dir)).filter((p) => p.endsWith('.ts'));
}

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}
interface Container {
  name: string;
  env?: { name: string }[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

function envFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readText(path).split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function k8sBase(): K8sObject[] {
  const kustomization = readYaml<{ resources: string[] }>('deploy/k8s/base/kustomization.yaml');
  return kustomization.resources.flatMap((r) => yamlDocuments(`deploy/k8s/base/${r}`) as K8sObject[]);
}

function containers(deployment: K8sObject): Container[] {
  return (deployment.spec.template as { spec: { containers: Container[] } }).spec.containers;
}

describe('deploy/k8s', () => {
  it('kustomization files exist; the budgets and overrides ConfigMaps match the compose copies', () => {
    interface Kustomization {
      resources: string[];
      configMapGenerator: { envs?: string[]; files?: string[] }[];
    }
    const k = readYaml<Kustomization>('deploy/k8s/base/kustomization.yaml');
    for (const r of k.resources) assert.ok(existsSync(join(ROOT, 'deploy/k8s/base', r)), r);
    for (const g of k.configMapGenerator) {
      for (const f of [...(g.envs ?? []), ...(g.files ?? []).map((x) => x.split('=').at(-1)!)]) {
        assert.ok(existsSync(join(ROOT, 'deploy/k8s/base', f)), f);
      }
    }
    assert.equal(
      readText('deploy/k8s/base/config/budgets.template.yaml'),
      readText('deploy/budgets/budgets.template.yaml'),
    );
    assert.equal(readText('deploy/k8s/base/config/overrides.json'), readText('deploy/pricing/overrides.json'));
    for (const overlay of ['dev', 'production']) {
      const o = readYaml<{ resources: string[] }>(`deploy/k8s/overlays/${overlay}/kustomization.yaml`);
      assert.deepEqual(o.resources, ['../../base']);
    }
  });

  it('ConfigMap and Secret variables are ones the services read, and the configs load', () => {
    const objects = k8sBase();
    const aggregator = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'aggregator')!;
    const env = envFile('deploy/k8s/base/config/aggregator.env');
    const extra = (containers(aggregator)[0]!.env ?? []).map((e) => e.name);
    assertKnown(
      'k8s aggregator',
      Object.fromEntries([...Object.keys(env), ...extra].map((k) => [k, ''])),
      AGGREGATOR_VARS,
    );
    const config = loadConfig({}, env);
    loadBudgetsConfig({}, env);
    const api = containers(aggregator)[0]!.ports!.find((p) => p.name === 'api')!;
    assert.equal(api.containerPort, config.apiPort);
    assert.deepEqual(containers(aggregator)[0]!.readinessProbe!.httpGet, { path: '/readyz', port: 'api' });
    assert.deepEqual(containers(aggregator)[0]!.livenessProbe!.httpGet, { path: '/healthz', port: 'api' });
    const pricingEnv = envFile('deploy/k8s/base/config/pricing-cache.env');
    assertKnown('k8s pricing-cache', pricingEnv, new Set(PRICING_CACHE_ENV_VARS));
    const pricing = loadPricingConfig({}, { ...pricingEnv, COSTTRACE_PRICING_OVERRIDES_FILE: undefined });
    const pricingDeployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'pricing-cache')!;
    const http = containers(pricingDeployment)[0]!.ports!.find((p) => p.name === 'http')!;
    assert.equal(http.containerPort, pricing.httpPort);
  });

  it('every Deployment has requests, limits, probes and a PodDisruptionBudget', () => {
    const objects = k8sBase();
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.name);
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      for (const c of containers(d)) {
        assert.ok(c.resources?.requests?.cpu && c.resources.limits?.memory, `${d.metadata.name} resources`);
        assert.ok(c.readinessProbe && c.livenessProbe, `${d.metadata.name} probes`);
      }
      assert.ok(pdbs.includes(d.metadata.name), `${d.metadata.name} PDB`);
    }
    assert.ok(objects.some((o) => o.kind === 'NetworkPolicy'));
  });

  it('the aggregator HPA scales on consumer lag up to the otlp_spans partition count', () => {
    const hpa = k8sBase().find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    const spec = hpa.spec as { maxReplicas: number; metrics: { type: string }[] };
    assert.equal(spec.metrics[0]!.type, 'External');
    const partitions = /otlp_spans:\$\{COSTTRACE_SPANS_PARTITIONS:-(\d+)\}/.exec(
      readText('deploy/kafka/create-topics.sh'),
    );
    assert.equal(spec.maxReplicas, Number(partitions![1]));
    assert.match(readText('deploy/k8s/overlays/production/kustomization.yaml'), /COSTTRACE_SPANS_PARTITIONS=48/);
    assert.match(readText('deploy/k8s/overlays/production/kustomization.yaml'), /maxReplicas, value: 48/);
  });
});
