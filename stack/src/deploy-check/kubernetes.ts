/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   Parsed YAML/HCL documents are loosely typed here: their shape is what these checks verify. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { topics } from '@searchop/schemas';
import { parseAllDocuments } from 'yaml';
import { featureTopics } from '../../../stream-processors/src/features/config.ts';
import { envProblems, isService } from './service-env.ts';
import { kustomizeBuild } from './tools.ts';

/** A Kubernetes object as kustomize prints it (loosely typed: the API schemas validate the shape). */
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; [k: string]: any };
type Any = any;

const PUBLIC = new Set(['ranker', 'collector']);
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet']);

export function overlayDirs(root: string): string[] {
  return readdirSync(join(root, 'k8s', 'overlays'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `k8s/overlays/${d.name}`)
    .sort();
}

/** Builds an overlay with kustomize; throws with kustomize's message when it does not build. */
export function buildOverlay(root: string, dir: string): K8sObject[] {
  const result = kustomizeBuild(dir, root);
  if (result.status !== 0) throw new Error(`kustomize build ${dir} failed: ${result.stderr.trim()}`);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** Validates one object with kubernetes-models (its bundled JSON schemas of the Kubernetes API). */
async function schemaProblems(where: string, object: K8sObject): Promise<string[]> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  let models: Record<string, new (data: unknown) => { validate(): void }>;
  try {
    models = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}`)) as typeof models;
  } catch {
    return [`${where}: no Kubernetes API schema for apiVersion ${object.apiVersion}`];
  }
  const Model = models[object.kind];
  if (!Model) return [`${where}: no Kubernetes API schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [`${where}: ${(error as Error).message.replaceAll('\n', ' ')}`];
  }
}

function podSpec(object: K8sObject): Any {
  if (object.kind === 'CronJob') return object['spec']?.jobTemplate?.spec?.template?.spec;
  return object['spec']?.template?.spec;
}

function podLabels(object: K8sObject): Record<string, string> {
  if (object.kind === 'CronJob') return object['spec']?.jobTemplate?.spec?.template?.metadata?.labels ?? {};
  return object['spec']?.template?.metadata?.labels ?? {};
}

function selects(selector: Any, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = labels[e.key];
    if (e.operator === 'In' && !(value !== undefined && e.values.includes(value))) return false;
    if (e.operator === 'NotIn' && value !== undefined && e.values.includes(value)) return false;
    if (e.operator === 'Exists' && value === undefined) return false;
    if (e.operator === 'DoesNotExist' && value !== undefined) return false;
  }
  return true;
}

/** The environment a container gets, with secrets as placeholders (their values are never in git). */
function containerEnv(
  container: Any,
  objects: readonly K8sObject[],
  where: string,
  problems: string[],
): { env: Record<string, string>; explicit: string[] } {
  const env: Record<string, string> = {};
  const configMap = (name: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = configMap(from.configMapRef.name);
      if (!cm) problems.push(`${where}: envFrom ConfigMap ${from.configMapRef.name} is not in the overlay`);
      Object.assign(env, cm?.['data'] ?? {});
    } else {
      problems.push(`${where}: envFrom must name a ConfigMap (secrets are mounted key by key)`);
    }
  }
  const explicit: string[] = [];
  for (const e of container.env ?? []) {
    explicit.push(e.name);
    if (e.value !== undefined) env[e.name] = String(e.value);
    // Checked as if the Secret had every key (prod has them): a value stands in for the secret.
    else if (e.valueFrom?.secretKeyRef) env[e.name] = 'secret-placeholder';
    else if (e.valueFrom?.configMapKeyRef) {
      const value = configMap(e.valueFrom.configMapKeyRef.name)?.['data']?.[e.valueFrom.configMapKeyRef.key];
      if (value === undefined) problems.push(`${where}: ${e.name} refers to a ConfigMap key that does not exist`);
      else env[e.name] = value;
    }
  }
  // Empty values are unset for the services (runtime loadConfig); drop them as it does.
  for (const [k, v] of Object.entries(env)) if (v === '') delete env[k];
  return { env, explicit };
}

function hpa(objects: readonly K8sObject[], name: string): Any {
  return objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o['spec']?.scaleTargetRef?.name === name)?.[
    'spec'
  ];
}

/** Everything the issue asks of the manifests, on one built overlay. */
export async function manifestProblems(overlay: string, objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  const name = (o: K8sObject) => `${overlay} ${o.kind}/${o.metadata.name}`;
  for (const object of objects) problems.push(...(await schemaProblems(name(object), object)));

  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  const claims = new Set(objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name));

  if (
    !policies.some(
      (p) =>
        Object.keys(p['spec']?.podSelector ?? {}).length === 0 &&
        (p['spec']?.policyTypes ?? []).includes('Ingress') &&
        (p['spec']?.ingress ?? []).length === 0,
    )
  ) {
    problems.push(`${overlay}: no default-deny ingress NetworkPolicy`);
  }

  for (const object of objects) {
    const spec = podSpec(object);
    if (!spec) continue;
    const where = name(object);
    const labels = podLabels(object);
    const app = labels['app.kubernetes.io/name'] ?? object.metadata.name;
    for (const volume of spec.volumes ?? []) {
      const claim = volume.persistentVolumeClaim?.claimName;
      if (claim && !claims.has(claim))
        problems.push(`${where}: volume ${volume.name} claims ${claim}, not in the overlay`);
    }
    for (const container of spec.containers ?? []) {
      const cwhere = `${where} container ${container.name}`;
      for (const kind of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          if (!container.resources?.[kind]?.[resource]) problems.push(`${cwhere}: no resources.${kind}.${resource}`);
        }
      }
      if (isService(container.name)) {
        const { env, explicit } = containerEnv(container, objects, cwhere, problems);
        problems.push(...envProblems(cwhere, container.name, env, explicit));
      }
      if (WORKLOAD_KINDS.has(object.kind) && (!container.livenessProbe || !container.readinessProbe)) {
        problems.push(`${cwhere}: needs liveness and readiness probes`);
      }
    }
    if (object.kind === 'Deployment') {
      if (!pdbs.some((p) => selects(p['spec']?.selector, labels))) problems.push(`${where}: no PodDisruptionBudget`);
      const annotations = object['spec']?.template?.metadata?.annotations ?? {};
      const ports = (spec.containers ?? []).flatMap((c: Any) =>
        (c.ports ?? []).map((p: Any) => String(p.containerPort)),
      );
      if (annotations['prometheus.io/scrape'] !== 'true' || !ports.includes(annotations['prometheus.io/port'])) {
        problems.push(`${where}: needs prometheus.io/scrape "true" and prometheus.io/port on a container port`);
      }
    }
    if (WORKLOAD_KINDS.has(object.kind)) {
      const selecting = policies.filter((p) => selects(p['spec']?.podSelector, labels));
      if (selecting.length <= 1) problems.push(`${where}: no NetworkPolicy besides the default deny lets traffic in`);
      for (const policy of selecting) {
        for (const rule of policy['spec']?.ingress ?? []) {
          const open = !rule.from || rule.from.length === 0;
          if (open && !PUBLIC.has(app)) {
            problems.push(
              `${where}: NetworkPolicy ${policy.metadata.name} opens it to everyone; only ${[...PUBLIC].join(' and ')} may be`,
            );
          }
          if ((app === 'kafka' || app === 'redis') && !open) {
            for (const peer of rule.from) {
              if (
                peer.podSelector?.matchLabels?.['app.kubernetes.io/part-of'] !== 'searchop' ||
                peer.namespaceSelector ||
                peer.ipBlock
              ) {
                problems.push(`${where}: NetworkPolicy ${policy.metadata.name} lets in more than SearchOp pods`);
              }
            }
          }
        }
      }
    }
  }

  for (const object of objects) {
    if (object.kind === 'Secret' && (object['data'] || object['stringData'])) {
      problems.push(`${name(object)}: a Secret with values is committed; reference searchop-secrets instead`);
    }
  }

  const ranker = hpa(objects, 'ranker');
  if (!ranker) problems.push(`${overlay}: no HPA for the ranker`);
  else {
    const target = (resource: string) =>
      ranker.metrics?.find((m: Any) => m.resource?.name === resource)?.resource?.target?.averageUtilization;
    if (ranker.minReplicas !== 2 || ranker.maxReplicas !== 10) problems.push(`${overlay}: ranker HPA must scale 2–10`);
    if (target('cpu') !== 70 || target('memory') !== 80)
      problems.push(`${overlay}: ranker HPA must target CPU 70% and memory 80%`);
    if ((ranker.behavior?.scaleUp?.stabilizationWindowSeconds ?? 0) > 0)
      problems.push(`${overlay}: ranker HPA scale-up must not wait`);
    if ((ranker.behavior?.scaleDown?.stabilizationWindowSeconds ?? 0) < 300) {
      problems.push(`${overlay}: ranker HPA scale-down must wait at least 5 minutes`);
    }
  }
  const partitionBounds: Record<string, number> = {
    'feature-processor': Math.max(...featureTopics('').map((t) => t.partitions)),
    compactor: Math.max(...Object.values(topics).map((t) => t.partitions)),
  };
  for (const [processor, partitions] of Object.entries(partitionBounds)) {
    const spec = hpa(objects, processor);
    if (!spec) problems.push(`${overlay}: no HPA for the ${processor}`);
    else if (spec.maxReplicas > partitions) {
      problems.push(
        `${overlay}: ${processor} HPA maxReplicas ${spec.maxReplicas} exceeds its topics' ${partitions} partitions`,
      );
    }
  }

  const trainer = objects.find((o) => o.kind === 'CronJob' && o.metadata.name === 'trainer');
  if (!trainer) problems.push(`${overlay}: no trainer CronJob`);
  else if (trainer['spec']?.schedule !== '0 2 * * 0')
    problems.push(`${overlay}: the trainer must run Sundays at 02:00`);
  return problems;
}
