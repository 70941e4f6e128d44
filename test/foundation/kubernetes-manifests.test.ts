import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadSettings } from '../../src/config/settings.loader';

const DIR = join(__dirname, '../../deploy/kubernetes');

type Doc = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };

function documents(): Array<{ file: string; doc: Doc }> {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => ({ file, doc: d.toJS() as Doc })),
    );
}

/** The models of kubernetes-models check a manifest against the Kubernetes OpenAPI schemas (`validate()` throws). */
const MODELS: Record<string, new (doc: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

describe('deploy/kubernetes', () => {
  const docs = documents();
  const of = (kind: string): Doc => docs.find((d) => d.doc.kind === kind)!.doc;

  it('holds a Deployment, a Service, a ServiceMonitor and a ConfigMap, each valid against the Kubernetes schemas', () => {
    expect(docs.map((d) => d.doc.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Service', 'ServiceMonitor']);
    for (const { file, doc } of docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${file}: ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new Model!(doc as never).validate(), file).not.toThrow();
    }
  });

  it('the schema check catches a broken manifest', () => {
    const broken = structuredClone(of('Deployment')) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it('probes /healthz for liveness and /readyz for readiness, takes DATABASE_URL from a Secret and the settings from the ConfigMap', () => {
    interface Container {
      livenessProbe: { httpGet: { path: string } };
      readinessProbe: { httpGet: { path: string } };
      env: Array<{ name: string; value?: string; valueFrom?: unknown }>;
      volumeMounts: Array<{ name: string; mountPath: string }>;
    }
    const deployment = of('Deployment') as unknown as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: { spec: { containers: Container[]; volumes: Array<{ name: string; configMap?: { name: string } }> } };
      };
    };
    const [container] = deployment.spec.template.spec.containers;
    expect(container!.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container!.readinessProbe.httpGet.path).toBe('/readyz');
    const env = Object.fromEntries(container!.env.map((e) => [e.name, e]));
    expect(env.DATABASE_URL!.valueFrom).toEqual({ secretKeyRef: { name: 'flamebill', key: 'DATABASE_URL' } });
    const configMapVolume = deployment.spec.template.spec.volumes.find(
      (v) => v.configMap?.name === of('ConfigMap').metadata.name,
    );
    const mount = container!.volumeMounts.find((m) => m.name === configMapVolume!.name)!;
    expect(env.FLAMEBILL_CONFIG!.value).toBe(`${mount.mountPath}/flamebill.yaml`);
    const service = of('Service') as unknown as {
      spec: { selector: Record<string, string>; ports: Array<{ name: string }> };
    };
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    const monitor = of('ServiceMonitor') as unknown as { spec: { endpoints: Array<{ port: string; path: string }> } };
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: service.spec.ports[0]!.name, path: '/metrics' });
  });

  it("the ConfigMap's settings are valid flamebill settings", () => {
    const text = (of('ConfigMap') as unknown as { data: Record<string, string> }).data['flamebill.yaml']!;
    const settings = loadSettings({ env: {}, cwd: '/app', configFile: null, overrides: parse(text) as never });
    expect(settings.labels.keys).toEqual(['version', 'endpoint']);
    expect(settings.server.port).toBe(3000);
  });
});
