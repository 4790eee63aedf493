/**
 * Shared lock machinery: resource names checked and turned into cluster-safe
 * keys, one hash tag per call so a multi-resource lock is one script on one
 * slot.
 */
import { escapeKeyPart, InvalidOptionsError, type Keyspace } from '@redkit/core';

/** Longest resource name accepted, in characters. */
export const maxResourceLength = 1024;
/** Most resources one multi-resource lock may hold. */
export const maxResources = 64;

/**
 * The hash tag of a resource, by Redis Cluster's own rule: the text between
 * the first `{` and the next `}`, when not empty. Resources without one are
 * their own tag. Several resources can be locked together when they share one.
 *
 * @example
 * ```ts
 * hashTagOf('{acct}:alice') // 'acct'
 * hashTagOf('invoice:42')   // undefined
 * ```
 */
export function hashTagOf(resource: string): string | undefined {
  const open = resource.indexOf('{');
  if (open < 0) return undefined;
  const close = resource.indexOf('}', open + 1);
  if (close <= open + 1) return undefined;
  return resource.slice(open + 1, close);
}

/** The keys of the resources one call locks: all in the slot of their shared hash tag. */
export interface ResourceKeys {
  readonly resources: readonly string[];
  /**
   * One id per resource, the prefix of its keys (`<ns>:{<resource>}` or
   * `<ns>:{<tag>}:<resource>`); also what a wake-up message names.
   */
  readonly ids: readonly string[];
  /** Fencing counter of the hash tag. */
  readonly fence: string;
  /** Exists while somebody waits for a resource of the hash tag. */
  readonly waiters: string;
}

function invalid(path: string, message: string, context: string): InvalidOptionsError {
  return new InvalidOptionsError([{ path, message }], { context });
}

function checkResource(resource: unknown, path: string, context: string): string {
  if (typeof resource !== 'string') throw invalid(path, 'must be a string', context);
  if (resource.length === 0) throw invalid(path, 'must not be empty', context);
  if (resource.length > maxResourceLength) {
    throw invalid(path, `must be at most ${maxResourceLength} characters`, context);
  }
  return resource;
}

/**
 * Validates one resource or a list of them and derives their keys. Several
 * resources must share a hash tag (`{tag}`), so that one script can lock
 * them all on Redis Cluster; a resource's keys are the same whether it is
 * locked alone or with others.
 *
 * @throws InvalidOptionsError naming `resource` or `resources.<n>`.
 */
export function resourceKeys(
  keyspace: Keyspace,
  input: string | readonly string[],
  context: string,
  allowMany: boolean,
): ResourceKeys {
  let resources: string[];
  if (typeof input === 'string' || !Array.isArray(input)) {
    resources = [checkResource(input, 'resource', context)];
  } else {
    if (!allowMany) throw invalid('resource', 'must be a string (one resource)', context);
    if (input.length === 0) throw invalid('resources', 'must list at least one resource', context);
    if (input.length > maxResources) throw invalid('resources', `must list at most ${maxResources}`, context);
    resources = input.map((resource, index) => checkResource(resource, `resources.${index}`, context));
  }

  const first = resources[0] as string;
  const tag = hashTagOf(first);
  if (resources.length > 1) {
    if (tag === undefined) {
      throw invalid(
        'resources.0',
        'several resources must share a hash tag such as "{orders}" (e.g. "{orders}:1", "{orders}:2") so one script can lock them all on Redis Cluster',
        context,
      );
    }
    const seen = new Set<string>();
    resources.forEach((resource, index) => {
      if (hashTagOf(resource) !== tag) {
        throw invalid(`resources.${index}`, `must share the hash tag {${tag}} of resources.0`, context);
      }
      if (seen.has(resource)) throw invalid(`resources.${index}`, 'is listed twice', context);
      seen.add(resource);
    });
  }

  const slot = `${keyspace.namespace}:${keyspace.tag(tag ?? first)}`;
  const ids = tag === undefined ? [slot] : resources.map((resource) => `${slot}:${escapeKeyPart(resource)}`);
  return { resources, ids, fence: `${slot}:fence`, waiters: `${slot}:waiters` };
}
