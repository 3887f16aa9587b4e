import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from '@fastify/type-provider-zod';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CdsHttpError, UnauthorizedError } from '../errors.js';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function send(
  reply: FastifyReply,
  request: FastifyRequest,
  statusCode: number,
  code: string,
  message: string,
) {
  return reply
    .code(statusCode)
    .type('application/json')
    .send({
      statusCode,
      error: STATUS_TEXT[statusCode] ?? 'Error',
      code,
      message,
      requestId: request.id,
    });
}

function validationMessage(error: FastifyError): string {
  const where = error.validationContext ?? 'body';
  return (error.validation ?? [])
    .slice(0, 5)
    .map((issue) => {
      const path = issue.instancePath
        .split('/')
        .filter((part) => part.length > 0)
        .join('.');
      const message = /received undefined$/.test(issue.message ?? '')
        ? 'is required'
        : (issue.message ?? 'is invalid');
      return `${path ? `${where}.${path}` : where}: ${message}`;
    })
    .join('; ');
}

/**
 * One error handler: a 4xx sends its message (they never carry patient data or tokens), anything else
 * sends a generic body with the request id and is logged as a bug.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof UnauthorizedError) {
      // iss and jti may be logged; the token never is. The client learns nothing more than 401.
      request.log.warn({ code: error.code, statusCode: 401, reason: error.reason }, 'authentication failed');
      void reply.header('www-authenticate', 'Bearer');
      return send(reply, request, 401, error.code, error.message);
    }
    if (error instanceof CdsHttpError) {
      request.log.info(
        { code: error.code, statusCode: error.statusCode, reason: error.message },
        'request refused',
      );
      return send(reply, request, error.statusCode, error.code, error.message);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const message = validationMessage(error);
      request.log.info({ code: 'CDS_BAD_REQUEST', reason: message }, 'request refused');
      return send(reply, request, 400, 'CDS_BAD_REQUEST', message);
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause.issues }, 'response failed its schema');
      return send(reply, request, 500, 'INTERNAL_ERROR', 'Internal error');
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.info({ code: error.code, statusCode: status }, 'request refused');
      return send(reply, request, status, error.code, error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, request, 500, 'INTERNAL_ERROR', 'Internal error');
  });
}

/** Unknown routes get the same JSON error shape (rate limited by the caller, as they invite scanning). */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return send(
    reply,
    request,
    404,
    'NOT_FOUND',
    `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`,
  );
}
