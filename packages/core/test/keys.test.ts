import {
  assertSameSlot,
  CrossSlotError,
  escapeKeyPart,
  groupBySlot,
  InvalidOptionsError,
  Keyspace,
  keySlot,
  unescapeKeyPart,
} from '@redkit/core';
import { describe, expect, it } from 'vitest';

/** The hash tag Redis uses: text between the first `{` and the next `}`, if non-empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return key;
  return key.slice(open + 1, close);
}

describe('Keyspace', () => {
  const keys = new Keyspace('shop:ratelimit');

  it('builds <namespace>:{<subject>}:<part>', () => {
    expect(keys.key('user42', 'tokens')).toBe('shop:ratelimit:{user42}:tokens');
    expect(keys.key(42)).toBe('shop:ratelimit:{42}');
    expect(keys.tag('user42')).toBe('{user42}');
  });

  it('escapes braces, colons, percent and newlines in subjects and parts', () => {
    expect(escapeKeyPart('a}:{b')).toBe('a%7D%3A%7Bb');
    expect(escapeKeyPart('50%\r\n')).toBe('50%25%0D%0A');
    expect(keys.key('a}:{b', 'x:y')).toBe('shop:ratelimit:{a%7D%3A%7Bb}:x%3Ay');
  });

  it('a hostile subject cannot reach another subject or slot', () => {
    const hostile = keys.key('a}:{b');
    expect(hashTag(hostile)).toBe('a%7D%3A%7Bb');
    expect(hostile).not.toBe(keys.key('a'));
    expect(keySlot(hostile)).not.toBe(keySlot(keys.key('b')));
    expect(keys.key('a', '}:{b')).not.toBe(keys.key('a}', '{b'));
    // Every key of a subject lands in the slot of that subject's tag.
    expect(keySlot(keys.key('a}:{b', 'anything'))).toBe(keys.slot('a}:{b'));
  });

  it('encodes one-to-one: different parts never give the same key', () => {
    const alphabet = ['a', '{', '}', ':', '%', '\n', '\r', '7', 'D', 'B'];
    const seen = new Map<string, string>();
    for (let length = 1; length <= 3; length++) {
      const total = alphabet.length ** length;
      for (let n = 0; n < total; n++) {
        let subject = '';
        for (let i = 0, rest = n; i < length; i++, rest = Math.floor(rest / alphabet.length)) {
          subject += alphabet[rest % alphabet.length];
        }
        const key = keys.key(subject, 'p');
        const previous = seen.get(key);
        expect(previous === undefined || previous === subject).toBe(true);
        seen.set(key, subject);
        // The tag is always exactly the escaped subject, and unescaping gives the subject back.
        expect(hashTag(key)).toBe(escapeKeyPart(subject));
        expect(unescapeKeyPart(escapeKeyPart(subject))).toBe(subject);
      }
    }
  });

  it.each(['', 'has space', 'brace{', 'ends:', ':starts', 'glob*', 'a\nb'])('rejects namespace %j', (namespace) => {
    expect(() => new Keyspace(namespace)).toThrow(InvalidOptionsError);
    expect(() => new Keyspace(namespace)).toThrow(/namespace/);
  });

  it('rejects an empty subject, which would not be a hash tag', () => {
    expect(() => keys.key('')).toThrow(/subject: must not be empty/);
  });

  it('rejects non-finite numbers and non-strings as parts', () => {
    expect(() => keys.key(Number.NaN)).toThrow(/subject: must be a finite number/);
    expect(() => keys.key('s', {} as never)).toThrow(/parts\.0: must be a string or a number/);
  });

  it('gives a SCAN pattern that matches only this namespace', () => {
    expect(keys.pattern()).toBe('shop:ratelimit:{*');
  });
});

describe('slot helpers', () => {
  it('assertSameSlot accepts keys sharing a tag and names the keys otherwise', () => {
    expect(() => assertSameSlot(['n:{s}:a', 'n:{s}:b', 'other:{s}'])).not.toThrow();
    expect(() => assertSameSlot(['n:{s}:a', 'n:{t}:a'])).toThrow(CrossSlotError);
    expect(() => assertSameSlot(['n:{s}:a', 'n:{t}:a'])).toThrow('n:{s}:a, n:{t}:a');
  });

  it('groupBySlot keeps each key with its original position', () => {
    const groups = groupBySlot(['a:{1}', 'b:{2}', 'c:{1}']);
    expect(groups.get(keySlot('{1}'))).toEqual({ keys: ['a:{1}', 'c:{1}'], indexes: [0, 2] });
    expect(groups.get(keySlot('{2}'))).toEqual({ keys: ['b:{2}'], indexes: [1] });
  });
});
