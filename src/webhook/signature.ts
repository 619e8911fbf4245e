/**
 * X-Twilio-Signature checks. Twilio signs the exact URL it requested, so behind a proxy or tunnel the URL must be
 * the public one the operator configured, not the address this process listens on.
 */
import type { FastifyRequest } from 'fastify';
import twilio from 'twilio';
import type { FormParams } from './params';

/**
 * The URL Twilio requested: `publicUrl` + path + query when configured (a path prefix in `publicUrl` is kept, for
 * proxies that strip it), else rebuilt from the request's protocol and Host. Fastify's `request.protocol` and
 * `request.host` honour X-Forwarded-Proto/-Host only when the server was created with `trustProxy`.
 */
function signedUrlFor(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return `${publicUrl.replace(/\/+$/, '')}${request.url}`;
  return `${request.protocol}://${request.host}${request.url}`;
}

export function hasValidSignature(authToken: string, request: FastifyRequest, publicUrl: string | undefined, params: FormParams): boolean {
  const header = request.headers['x-twilio-signature'];
  if (typeof header !== 'string' || header === '') return false;
  return twilio.validateRequest(authToken, header, signedUrlFor(request, publicUrl), params);
}
