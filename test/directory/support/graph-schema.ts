import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Request-body validation against Microsoft Graph v1.0's own type metadata, as Graph validates it.
 *
 * The types come from shared/graph/graph-v1.0-types.json (extracted from microsoftgraph/
 * msgraph-metadata, schemas/v1.0-Prod.csdl): every property of `user`, `passwordProfile`,
 * `temporaryAccessPassAuthenticationMethod`, … with its EDM type and nullability, base types
 * flattened in. The file is read where CI lays it, beside the repository: never copied into it.
 *
 * Error wording (all answered as 400 Request_BadRequest by the stand-in):
 * - a value of the wrong JSON kind, an unreadable literal and a null for a non-nullable property
 *   are the OData library's own messages, which Graph passes through ("Cannot convert the literal
 *   '0' to the expected type 'Edm.Boolean'.", "Cannot convert a value of type 'Edm.Int32' to the
 *   expected target type 'Edm.Boolean'.", "A null value was found for the property named …");
 * - an unknown property on a closed type (passwordProfile, the TAP method) is OData's "The property
 *   'x' does not exist on type 'microsoft.graph.passwordProfile'. Make sure to only use property
 *   names that are defined by the type or mark the type as open type.";
 * - `user` and `group` derive from directoryObject, which the metadata marks open (directory
 *   extensions `extension_{appId}_{name}` are dynamic properties), so OData lets an unknown name
 *   through and the directory refuses it instead: "Invalid property 'x'." (reported against Graph
 *   in microsoftgraph/msgraph-sdk-powershell#3230 and msgraph-sdk-dotnet#2352), and for an
 *   extension name no app registered, "The following extension properties are not available:
 *   extension_….": this stand-in registers none (microsoftgraph/msgraph-sdk-dotnet#2680).
 * Types the file names but does not describe (assignedPlan, mailboxSettings…) are checked for
 * their JSON shape (object, or array of objects) only.
 */

interface PropertyType {
  type: string;
  nullable: boolean;
}
interface TypeEntry {
  baseType: string | null;
  kind: string;
  openType: boolean;
  properties: Record<string, PropertyType>;
  navigation: string[];
}
export interface GraphTypes {
  types: Record<string, TypeEntry>;
  enums: Record<string, string[]>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository's root: this file is test/directory/support/graph-schema.ts. */
const REPO_ROOT = path.resolve(HERE, '../../..');

/** Where the types file is: shared/graph/ beside the repository, as CI and the worktrees have it. */
export const GRAPH_TYPES_PATH = path.resolve(REPO_ROOT, '../shared/graph/graph-v1.0-types.json');

export function loadGraphTypes(file = GRAPH_TYPES_PATH): GraphTypes {
  if (!existsSync(file)) {
    throw new Error(`The Graph stand-in validates bodies against ${file}, which is missing.`);
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as GraphTypes;
  if (!parsed.types?.user || !parsed.types.passwordProfile) {
    throw new Error(`${file} does not describe microsoft.graph.user and passwordProfile.`);
  }
  return parsed;
}

const NS = 'microsoft.graph.';
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXTENSION = /^extension_[0-9a-f]{32}_\w+$/i;

/** The EDM type OData reads a JSON primitive as, for its "Cannot convert a value of type" message. */
function edmOf(value: unknown): string {
  if (typeof value === 'boolean') return 'Edm.Boolean';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 'Edm.Double';
    return value >= -(2 ** 31) && value < 2 ** 31 ? 'Edm.Int32' : 'Edm.Int64';
  }
  return 'Edm.String';
}

const notConvertible = (value: unknown, expected: string) =>
  `Cannot convert a value of type '${edmOf(value)}' to the expected target type '${expected}'.`;
const badLiteral = (literal: string, expected: string) =>
  `Cannot convert the literal '${literal}' to the expected type '${expected}'.`;
const unexpectedNode = (found: 'StartObject' | 'StartArray' | 'PrimitiveValue', wanted: string) =>
  `An unexpected '${found}' node was found when reading from the JSON reader. A '${wanted}' node was expected.`;

export class GraphSchema {
  constructor(readonly graph: GraphTypes) {}

  /** The problem with `body` as a `typeName` (e.g. 'user'), in Graph's words, or undefined. */
  check(typeName: string, body: unknown): string | undefined {
    if (!isObject(body))
      return unexpectedNode(Array.isArray(body) ? 'StartArray' : 'PrimitiveValue', 'StartObject');
    return this.object(typeName, body);
  }

  private object(typeName: string, body: Record<string, unknown>): string | undefined {
    const entry = this.graph.types[typeName];
    if (!entry) return undefined; // named by the metadata, described nowhere here: shape only
    for (const [name, value] of Object.entries(body)) {
      if (name === '@odata.type') {
        const problem = this.odataType(typeName, value);
        if (problem) return problem;
        continue;
      }
      const at = name.indexOf('@');
      if (at >= 0) {
        // An annotation of a property or navigation property (e.g. manager@odata.bind), or of the
        // object itself (@odata.context, @odata.etag…): OData reads these apart from the values.
        const owner = name.slice(0, at);
        if (owner === '' || owner in entry.properties || entry.navigation.includes(owner)) continue;
      }
      const property = entry.properties[name];
      if (!property) {
        if (!entry.openType) {
          return `The property '${name}' does not exist on type '${NS}${typeName}'. Make sure to only use property names that are defined by the type or mark the type as open type.`;
        }
        return EXTENSION.test(name)
          ? `The following extension properties are not available: ${name}.`
          : `Invalid property '${name}'.`;
      }
      const problem = this.value(name, property, value);
      if (problem) return problem;
    }
    return undefined;
  }

  private odataType(typeName: string, value: unknown): string | undefined {
    if (typeof value !== 'string') return notConvertible(value, 'Edm.String');
    const named = value.replace(/^#/, '');
    if (named.toLowerCase() === `${NS}${typeName}`.toLowerCase()) return undefined;
    if (!named.startsWith(NS) || !this.graph.types[named.slice(NS.length)]) {
      return `A type named '${named}' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.`;
    }
    return `A resource with type '${named}' was found, but it is not assignable to the expected type '${NS}${typeName}'. The type specified in the resource must be equal to either the expected type or a derived type.`;
  }

  private value(name: string, property: PropertyType, value: unknown): string | undefined {
    const collection = /^Collection\((.+)\)$/.exec(property.type)?.[1];
    if (value === null) {
      if (property.nullable) return undefined;
      return `A null value was found for the property named '${name}', which has the expected type '${property.type}[Nullable=False]'. The expected type '${property.type}[Nullable=False]' does not allow null values.`;
    }
    if (collection) {
      if (!Array.isArray(value))
        return unexpectedNode(isObject(value) ? 'StartObject' : 'PrimitiveValue', 'StartArray');
      for (const item of value) {
        if (item === null) {
          return `A null value was found with the expected type '${collection}[Nullable=False]'. The expected type '${collection}[Nullable=False]' does not allow null values.`;
        }
        const problem = this.single(collection, item);
        if (problem) return problem;
      }
      return undefined;
    }
    return this.single(property.type, value);
  }

  /** One non-null value of an EDM primitive, an enum or a complex type. */
  private single(type: string, value: unknown): string | undefined {
    if (!type.startsWith('Edm.')) {
      const local = type.slice(NS.length);
      const members = this.graph.enums[local];
      if (members) {
        if (typeof value !== 'string') return notConvertible(value, type);
        // Graph takes an enum by its member name; a flags value is members joined with commas.
        const unknown = value.split(',').find((m) => !members.includes(m.trim()));
        return unknown === undefined ? undefined : badLiteral(value, type);
      }
      if (!isObject(value))
        return unexpectedNode(Array.isArray(value) ? 'StartArray' : 'PrimitiveValue', 'StartObject');
      return this.object(local, value);
    }
    if (isObject(value)) return unexpectedNode('StartObject', 'PrimitiveValue');
    if (Array.isArray(value)) return unexpectedNode('StartArray', 'PrimitiveValue');
    switch (type) {
      case 'Edm.String':
        return typeof value === 'string' ? undefined : notConvertible(value, type);
      case 'Edm.Boolean':
        if (typeof value === 'boolean') return undefined;
        return typeof value === 'string' ? badLiteral(value, type) : notConvertible(value, type);
      case 'Edm.Int32':
        if (typeof value === 'number' && edmOf(value) === 'Edm.Int32') return undefined;
        return typeof value === 'string' ? badLiteral(value, type) : notConvertible(value, type);
      case 'Edm.DateTimeOffset':
        if (typeof value !== 'string') return notConvertible(value, type);
        return ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))
          ? undefined
          : badLiteral(value, type);
      case 'Edm.Guid':
        if (typeof value !== 'string') return notConvertible(value, type);
        return GUID.test(value) ? undefined : badLiteral(value, type);
      default:
        return undefined; // no other EDM primitive appears in the types these bodies use
    }
  }
}
