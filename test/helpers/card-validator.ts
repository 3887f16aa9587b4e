/**
 * The CDS Hooks 2.0 card rules (spec §Card, §Suggestion, §Action, §Link and the JSON rules), written from
 * ../shared/cds-hooks/spec-digest.md §1 and §6. Every card any test produces goes through it.
 */

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAbsoluteUrl(value: Json): boolean {
  return typeof value === 'string' && /^https?:\/\/\S+$/.test(value);
}

/** Elements SHALL NOT be null or empty; optional values are left out. */
function findEmpty(value: Json, path: string, problems: string[]): void {
  if (value === null) {
    problems.push(`${path} is null`);
  } else if (value === '') {
    problems.push(`${path} is an empty string`);
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      problems.push(`${path} is an empty array`);
    }
    value.forEach((item, index) => {
      findEmpty(item, `${path}[${index}]`, problems);
    });
  } else if (isObject(value)) {
    if (Object.keys(value).length === 0) {
      problems.push(`${path} is an empty object`);
    }
    for (const [key, item] of Object.entries(value)) {
      findEmpty(item, `${path}.${key}`, problems);
    }
  }
}

function checkCoding(coding: Json, path: string, problems: string[], displayRequired: boolean): void {
  if (!isObject(coding)) {
    problems.push(`${path} is not a Coding`);
    return;
  }
  if (typeof coding['system'] !== 'string') {
    problems.push(`${path}.system is required`);
  }
  if (typeof coding['code'] !== 'string') {
    problems.push(`${path}.code is required`);
  }
  if (displayRequired && typeof coding['display'] !== 'string') {
    problems.push(`${path}.display is required`);
  }
}

function checkResource(resource: Json, path: string, problems: string[]): void {
  if (!isObject(resource) || typeof resource['resourceType'] !== 'string') {
    problems.push(`${path} is not a FHIR resource`);
    return;
  }
  const required: Record<string, string[]> = {
    ServiceRequest: ['status', 'intent', 'subject', 'code'],
    MedicationRequest: ['status', 'intent', 'subject', 'medicationCodeableConcept'],
  };
  for (const field of required[resource['resourceType']] ?? []) {
    if (resource[field] === undefined) {
      problems.push(`${path}.${field} is required for ${resource['resourceType']}`);
    }
  }
}

export function cardProblems(card: Json, path = 'card'): string[] {
  const problems: string[] = [];
  if (!isObject(card)) {
    return [`${path} is not an object`];
  }
  findEmpty(card, path, problems);
  const summary = card['summary'];
  if (typeof summary !== 'string' || summary.length === 0) {
    problems.push(`${path}.summary is required`);
  } else if (summary.length >= 140) {
    problems.push(`${path}.summary has ${summary.length} characters (must be < 140)`);
  } else if (!summary.isWellFormed() || /[\p{Cc}\p{Cf}\u2028\u2029]/u.test(summary)) {
    // One line of plain text: no newline, control or bidi character, no half of a surrogate pair.
    problems.push(`${path}.summary is not one line of plain text: ${JSON.stringify(summary)}`);
  }
  if (!['info', 'warning', 'critical'].includes(card['indicator'] as string)) {
    problems.push(`${path}.indicator is invalid`);
  }
  if (card['detail'] !== undefined && typeof card['detail'] !== 'string') {
    problems.push(`${path}.detail must be a string`);
  } else if (typeof card['detail'] === 'string' && !card['detail'].isWellFormed()) {
    problems.push(`${path}.detail has half of a surrogate pair`);
  }
  if (card['uuid'] !== undefined && typeof card['uuid'] !== 'string') {
    problems.push(`${path}.uuid must be a string`);
  }

  const source = card['source'];
  if (!isObject(source) || typeof source['label'] !== 'string') {
    problems.push(`${path}.source.label is required`);
  } else {
    if (source['url'] !== undefined && !isAbsoluteUrl(source['url'])) {
      problems.push(`${path}.source.url must be absolute`);
    }
    if (source['icon'] !== undefined && !isAbsoluteUrl(source['icon'])) {
      problems.push(`${path}.source.icon must be absolute`);
    }
    if (source['topic'] !== undefined) {
      checkCoding(source['topic'], `${path}.source.topic`, problems, false);
    }
  }

  const suggestions = card['suggestions'];
  if (suggestions !== undefined) {
    if (!Array.isArray(suggestions)) {
      problems.push(`${path}.suggestions must be an array`);
    } else {
      const behaviour = card['selectionBehavior'];
      if (!['at-most-one', 'any'].includes(behaviour as string)) {
        problems.push(`${path}.selectionBehavior is required with suggestions (at-most-one or any)`);
      }
      const recommended = suggestions.filter(
        (suggestion) => isObject(suggestion) && suggestion['isRecommended'] === true,
      );
      if (recommended.length > 1 && behaviour !== 'any') {
        problems.push(`${path}: several recommended suggestions need selectionBehavior "any"`);
      }
      suggestions.forEach((suggestion, index) => {
        const at = `${path}.suggestions[${index}]`;
        if (!isObject(suggestion)) {
          problems.push(`${at} is not an object`);
          return;
        }
        if (typeof suggestion['label'] !== 'string') {
          problems.push(`${at}.label is required`);
        }
        if (suggestion['uuid'] !== undefined && typeof suggestion['uuid'] !== 'string') {
          problems.push(`${at}.uuid must be a string`);
        }
        if (suggestion['isRecommended'] !== undefined && typeof suggestion['isRecommended'] !== 'boolean') {
          problems.push(`${at}.isRecommended must be a boolean`);
        }
        const actions = suggestion['actions'];
        if (actions !== undefined && !Array.isArray(actions)) {
          problems.push(`${at}.actions must be an array`);
        }
        (Array.isArray(actions) ? actions : []).forEach((action, actionIndex) => {
          const actionAt = `${at}.actions[${actionIndex}]`;
          if (!isObject(action)) {
            problems.push(`${actionAt} is not an object`);
            return;
          }
          if (!['create', 'update', 'delete'].includes(action['type'] as string)) {
            problems.push(`${actionAt}.type is invalid`);
          }
          if (typeof action['description'] !== 'string') {
            problems.push(`${actionAt}.description is required`);
          }
          if (action['type'] === 'create' || action['type'] === 'update') {
            checkResource(action['resource'], `${actionAt}.resource`, problems);
          }
          if (action['type'] === 'delete') {
            if (typeof action['resourceId'] !== 'string') {
              problems.push(`${actionAt}.resourceId is required for delete`);
            }
            if (action['resource'] !== undefined) {
              problems.push(`${actionAt}.resource must be absent for delete`);
            }
          }
        });
      });
    }
  }
  const overrideReasons = card['overrideReasons'];
  if (overrideReasons !== undefined) {
    if (!Array.isArray(overrideReasons)) {
      problems.push(`${path}.overrideReasons must be an array`);
    } else {
      overrideReasons.forEach((reason, index) => {
        checkCoding(reason, `${path}.overrideReasons[${index}]`, problems, true);
      });
    }
  }
  const links = card['links'];
  if (links !== undefined) {
    (Array.isArray(links) ? links : []).forEach((link, index) => {
      const at = `${path}.links[${index}]`;
      if (!isObject(link)) {
        return problems.push(`${at} is not an object`);
      }
      if (typeof link['label'] !== 'string') {
        problems.push(`${at}.label is required`);
      }
      if (typeof link['url'] !== 'string') {
        problems.push(`${at}.url is required`);
      }
      if (!['absolute', 'smart'].includes(link['type'] as string)) {
        problems.push(`${at}.type is invalid`);
      }
      if (link['appContext'] !== undefined && link['type'] !== 'smart') {
        problems.push(`${at}.appContext only with smart links`);
      }
      return undefined;
    });
  }
  return problems;
}

/** Problems with a whole service response: `{"cards": [...]}` plus optional non-empty systemActions. */
export function responseProblems(body: Json): string[] {
  if (!isObject(body) || !Array.isArray(body['cards'])) {
    return ['response must be {"cards": [...]}'];
  }
  const problems = body['cards'].flatMap((card, index) => cardProblems(card, `cards[${index}]`));
  if (
    body['systemActions'] !== undefined &&
    (!Array.isArray(body['systemActions']) || body['systemActions'].length === 0)
  ) {
    problems.push('systemActions must be left out when empty');
  }
  return problems;
}
