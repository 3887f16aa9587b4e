type Path = readonly (string | number)[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Where the first `null` below `value` is, or undefined. Iterative: deep nesting cannot overflow the stack. */
function firstNull(value: unknown): Path | undefined {
  // Values only, without allocating per node, on the path every call takes; the path is rebuilt only for a
  // body that has a null.
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (next === null) {
      return pathOfFirstNull(value, []);
    }
    if (typeof next === 'object') {
      if (Array.isArray(next)) {
        for (const child of next) {
          stack.push(child);
        }
      } else {
        const record = next as Record<string, unknown>;
        for (const key in record) {
          stack.push(record[key]);
        }
      }
    }
  }
  return undefined;
}

function pathOfFirstNull(value: unknown, path: Path): Path | undefined {
  const stack: { value: unknown; path: Path }[] = [{ value, path }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    if (next.value === null) {
      return next.path;
    }
    if (typeof next.value === 'object') {
      const entries: [string | number, unknown][] = Array.isArray(next.value)
        ? next.value.map((child, index) => [index, child])
        : Object.entries(next.value);
      for (const [key, child] of entries.reverse()) {
        stack.push({ value: child, path: [...next.path, key] });
      }
    }
  }
  return undefined;
}

function formatPath(path: Path): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('');
}

/**
 * CDS Hooks JSON leaves out an element that has no value (spec-digest §1): `null` is allowed only as a
 * prefetch key's value, meaning the query ran and found nothing. Returns a message naming where another
 * `null` is (for a 400), or undefined.
 * @param body - a parsed request body
 * @param nullablePrefetch - whether `prefetch.{key}` may be null (service calls, not feedback)
 */
export function nullValueProblem(body: unknown, nullablePrefetch: boolean): string | undefined {
  if (!isObject(body)) {
    return undefined;
  }
  for (const [key, value] of Object.entries(body)) {
    const path =
      nullablePrefetch && key === 'prefetch' && isObject(value)
        ? Object.entries(value)
            .map(([prefetchKey, resource]) => {
              const inner = resource === null ? undefined : firstNull(resource);
              return inner && [prefetchKey, ...inner];
            })
            .find((found) => found !== undefined)
        : firstNull(value);
    if (path) {
      return `body.${key}${formatPath(path)} is null: leave out an element that has no value (only a prefetch key may be null)`;
    }
  }
  return undefined;
}
