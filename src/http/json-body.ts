import type { FastifyBodyParser, FastifyError } from 'fastify';
import { CdsHttpError, ForbiddenKeyError } from '../errors.js';

/** JSON text as a value, or undefined when it is not JSON. */
function parsedOrUndefined(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** Whether any object in a parsed body has `__proto__` as an own key (JSON.parse makes it one). Iterative. */
function hasProtoKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next === 'object' && next !== null) {
      if (Object.hasOwn(next, '__proto__')) {
        return true;
      }
      for (const child of Object.values(next as Record<string, unknown>)) {
        stack.push(child);
      }
    }
  }
  return false;
}

/**
 * Fastify's own JSON parser (secure-json-parse, refusing `__proto__` and `constructor.prototype` keys) for a
 * media type, with refusals that say what was wrong. Fastify gives one message for a body that is not JSON
 * and for one with a forbidden key, and names 'application/json' whatever the content type; the body is
 * parsed again only on that path, to tell the two apart.
 * @param mediaType - the content type this parser is registered for, named in its messages
 * @param parse - `app.getDefaultJsonParser('error', 'error')`
 */
export function jsonBodyParser(
  mediaType: string,
  parse: FastifyBodyParser<string>,
): FastifyBodyParser<string> {
  return (request, body, done) => {
    void parse(request, body, (error, value) => {
      const code = (error as FastifyError | null)?.code;
      if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
        done(new CdsHttpError(400, code, `The body is empty but content-type is set to '${mediaType}'`));
        return;
      }
      if (code !== 'FST_ERR_CTP_INVALID_JSON_BODY') {
        done(error, value);
        return;
      }
      const parsed = parsedOrUndefined(body);
      done(
        parsed
          ? new ForbiddenKeyError(hasProtoKey(parsed.value) ? '__proto__' : 'constructor.prototype')
          : new CdsHttpError(400, code, `Body is not valid JSON but content-type is set to '${mediaType}'`),
      );
    });
  };
}
