import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { projectRoot } from './processes.js';

/**
 * The platforms' published schemas (kept as published in shared/schemas, beside the repository),
 * as validators that answer with a readable list of problems: empty when the object is valid.
 */
export const schemasDir = path.join(projectRoot, '..', 'shared', 'schemas');

function load(file: string): AnySchemaObject {
  const at = path.join(schemasDir, file);
  if (!existsSync(at)) {
    throw new Error(
      `${at} is missing: the published schemas are kept in shared/schemas, beside the repository`,
    );
  }
  return JSON.parse(readFileSync(at, 'utf8')) as AnySchemaObject;
}

// Both ajv-draft-04 and ajv-formats are CommonJS whose module.exports is the export itself; under
// NodeNext their typings describe that as a namespace holding `default`, so take it from there.
const Draft04 = Ajv04 as unknown as typeof Ajv04.default;
const formats = addFormats as unknown as typeof addFormats.default;

/** Teams manifest v1.19: draft-04, as its `$schema` says. */
const teamsManifest = (() => {
  const ajv = new Draft04({ allErrors: true, verbose: true, strictTypes: false });
  formats(ajv);
  return ajv.compile(load('teams-v1.19-MicrosoftTeams.schema.json'));
})();

/**
 * Slack's manifest schema: the root (draft-07) chooses a version by `_metadata.major_version` and
 * refers to each version by its published URL, so the local copies are registered under those URLs.
 */
const SLACK_VERSIONS = {
  1: 'https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.1.0.0.json',
  2: 'https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.2.0.0.json',
} as const;

const slack = (() => {
  const ajv = new Ajv({ allErrors: true, verbose: true, strictTypes: false });
  formats(ajv);
  ajv.addKeyword('_note'); // the authors' comments
  // slackapi/manifest-schema writes background_color's pattern under `regex`, which no validator
  // knows; it is applied here as the pattern it is meant to be.
  ajv.addKeyword({
    keyword: 'regex',
    type: 'string',
    schemaType: 'string',
    error: { message: (cxt) => `must match pattern "${String(cxt.schema)}"` },
    validate: (pattern: string, data: string) => new RegExp(pattern).test(data),
  });
  ajv.addSchema(load('slack-manifest.schema.1.0.0.json'), SLACK_VERSIONS[1]);
  ajv.addSchema(load('slack-manifest.schema.2.0.0.json'), SLACK_VERSIONS[2]);
  const version = (n: 1 | 2): ValidateFunction => {
    const v = ajv.getSchema(SLACK_VERSIONS[n]);
    if (!v) throw new Error(`Slack manifest schema v${n} did not compile`);
    return v;
  };
  return { root: ajv.compile(load('slack-manifest.schema.json')), v1: version(1), v2: version(2) };
})();

/**
 * Adaptive Cards 1.5 (draft-06). The published file names itself with draft-04's `id` where draft-06
 * says `$id`, and annotates with `version`, `features` and `example`, keywords of its own.
 */
const adaptiveCard = (() => {
  const require = createRequire(import.meta.url);
  const ajv = new Ajv({ allErrors: true, verbose: true, strictTypes: false });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject);
  formats(ajv);
  for (const keyword of ['version', 'features', 'example']) ajv.addKeyword(keyword);
  const { id, ...schema } = load('adaptive-card-1.5.0.json');
  return { validate: ajv.compile({ ...schema, $id: id }), branches: branchesOf(schema) };
})();

/**
 * Teams' own card-level extras, the ones its documentation lists ("Format cards in Teams": full
 * width, and mentions in a card); the Adaptive Cards schema would refuse them as unknown properties.
 */
const msteams = new Ajv({ allErrors: true, verbose: true }).compile({
  type: 'object',
  additionalProperties: false,
  properties: {
    width: { enum: ['Full'] },
    entities: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'text', 'mentioned'],
        properties: {
          type: { enum: ['mention'] },
          text: { type: 'string' },
          mentioned: {
            type: 'object',
            required: ['id', 'name'],
            properties: { id: { type: 'string' }, name: { type: 'string' } },
          },
        },
      },
    },
  },
});

/** The highest Adaptive Card version Teams renders in bot messages. */
const TEAMS_CARD_VERSION = 1.5;

/** Problems with a Teams app manifest (manifest.json as packaged), against teams-v1.19. */
export function validateTeamsManifest(manifest: unknown): string[] {
  return teamsManifest(manifest) ? [] : readable(teamsManifest.errors, manifest);
}

/**
 * Problems with a Slack app manifest (as parsed from YAML or JSON), against Slack's root schema.
 * When the root refuses it, the problems are told from the version the manifest declares (v1 when it
 * declares none), since the root's `oneOf` only says that no version matched.
 */
export function validateSlackManifest(manifest: unknown): string[] {
  if (slack.root(manifest)) return [];
  const major = (manifest as { _metadata?: { major_version?: unknown } } | null)?._metadata?.major_version;
  const version = major === 2 ? slack.v2 : slack.v1;
  return version(manifest) ? readable(slack.root.errors, manifest) : readable(version.errors, manifest);
}

/**
 * Problems with an Adaptive Card (an attachment's `content`) as Teams takes it: Adaptive Cards 1.5,
 * with Teams' documented card-level `msteams` object allowed and checked on its own.
 */
export function validateAdaptiveCard(card: unknown): string[] {
  if (typeof card !== 'object' || card === null || Array.isArray(card)) return ['(root) must be an object'];
  const { msteams: extras, ...rest } = card as Record<string, unknown>;
  const problems: string[] = [];
  if (extras !== undefined && !msteams(extras)) {
    problems.push(...readable(msteams.errors, extras, undefined, '/msteams'));
  }
  if (!adaptiveCard.validate(rest))
    problems.push(...readable(adaptiveCard.validate.errors, rest, adaptiveCard.branches));
  const version = Number((rest as { version?: unknown }).version);
  if (!(version <= TEAMS_CARD_VERSION)) {
    problems.push(`/version must be at most ${TEAMS_CARD_VERSION}, the highest Teams renders`);
  }
  return problems;
}

type Schema = AnySchemaObject;

/**
 * Which element types each part of a schema belongs to, for schemas (Adaptive Cards') whose lists
 * are an `anyOf` over definitions told apart by `type`: ajv tries every branch, so a bad TextBlock
 * is also reported as a bad Image, a bad FactSet, and so on. `own` holds the schemas that apply to
 * the element itself, `child` those that apply to one of its properties.
 */
interface Branches {
  own: Map<object, Set<string>>;
  child: Map<object, Set<string>>;
  /** The element types a schema (an `anyOf` branch) stands for. */
  typesOf(schema: Schema): string[];
}

function branchesOf(root: Schema): Branches {
  const definitions = (root.definitions ?? {}) as Record<string, Schema>;
  const resolve = (s: Schema): Schema | undefined =>
    typeof s.$ref === 'string' && s.$ref.startsWith('#/definitions/')
      ? definitions[s.$ref.slice('#/definitions/'.length)]
      : undefined;
  /** The schemas that apply to the same value as `s`: itself, its allOf/anyOf/oneOf and $ref targets. */
  const sameValue = (s: Schema, seen = new Set<Schema>()): Set<Schema> => {
    if (seen.has(s)) return seen;
    seen.add(s);
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      for (const sub of (s[key] ?? []) as Schema[]) sameValue(sub, seen);
    }
    const target = resolve(s);
    if (target) sameValue(target, seen);
    return seen;
  };
  const own = new Map<object, Set<string>>();
  const child = new Map<object, Set<string>>();
  const typed = new Map<Schema, string[]>();
  const add = (map: Map<object, Set<string>>, s: object, types: readonly string[]) => {
    const set = map.get(s) ?? new Set<string>();
    for (const t of types) set.add(t);
    map.set(s, set);
  };
  for (const definition of Object.values(definitions)) {
    const types = (definition.properties as Record<string, Schema> | undefined)?.type?.enum;
    if (!Array.isArray(types) || !types.every((t) => typeof t === 'string')) continue;
    typed.set(definition, types);
    for (const s of sameValue(definition)) {
      add(own, s, types);
      for (const property of Object.values((s.properties ?? {}) as Record<string, Schema>)) {
        for (const p of sameValue(property)) add(child, p, types);
      }
    }
  }
  const typesOf = (schema: Schema) => [...sameValue(schema)].flatMap((s) => typed.get(s) ?? []);
  return { own, child, typesOf };
}

/** The value at a JSON pointer such as `/body/0/type`. */
function at(data: unknown, pointer: string): unknown {
  let value = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

const parentOf = (pointer: string) => pointer.slice(0, pointer.lastIndexOf('/'));
const typeOf = (value: unknown) => (value as { type?: unknown } | null | undefined)?.type;

/**
 * ajv's errors as lines a person can read: only the `anyOf` branch for an element's own `type` is
 * kept, and an `anyOf`/`oneOf` summary only where nothing more precise was said about that place.
 */
function readable(
  errors: ErrorObject[] | null | undefined,
  data: unknown,
  branches: Branches = { own: new Map(), child: new Map(), typesOf: () => [] },
  prefix = '',
): string[] {
  const wrongBranch = (e: ErrorObject): boolean => {
    const schema = e.parentSchema as object | undefined;
    if (!schema) return false;
    const ownTypes = branches.own.get(schema);
    const childTypes = branches.child.get(schema);
    if (ownTypes) {
      const type = typeOf(at(data, e.instancePath));
      if (typeof type === 'string' && !ownTypes.has(type)) return true;
    }
    if (childTypes && e.instancePath !== '') {
      const type = typeOf(at(data, parentOf(e.instancePath)));
      if (typeof type === 'string' && !childTypes.has(type)) return true;
    }
    return false;
  };
  const kept = (errors ?? []).filter((e) => !wrongBranch(e));
  const composite = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf';
  const precise = kept.filter((e) => !composite(e));
  const lines = kept
    .filter((e) => !composite(e) || !precise.some((p) => p.instancePath.startsWith(e.instancePath)))
    .map((e) => `${prefix + e.instancePath || '(root)'} ${message(e, data, branches)}`);
  return [...new Set(lines)];
}

function message(e: ErrorObject, data: unknown, branches: Branches): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties')
    return `must NOT have the property "${String(p.additionalProperty)}"`;
  if (e.keyword === 'const') return `must be ${JSON.stringify(p.allowedValue)}`;
  if (e.keyword === 'enum') {
    return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (e.keyword === 'anyOf' && Array.isArray(e.schema)) {
    // Every branch failed: when none was for this element's type, the type is what is wrong.
    const type = typeOf(at(data, e.instancePath));
    const types = new Set((e.schema as Schema[]).flatMap((branch) => branches.typesOf(branch)));
    if (typeof type === 'string' && types.size > 0 && !types.has(type)) {
      return `is of type "${type}", which is none of ${[...types].sort().join(', ')}`;
    }
  }
  return e.message ?? e.keyword;
}
