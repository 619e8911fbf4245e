/**
 * webhooks.twilio.com: the Studio Flow webhook URL. It takes a number's incoming-call request (starts an
 * Execution) and its status callbacks (a final status ends the call's active Execution).
 */
import type { FastifyInstance } from 'fastify';
import type { Core } from '../core';
import { notFound } from '../format';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export function registerWebhookRoutes(app: FastifyInstance, core: Core): void {
  const handler = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const { AccountSid, FlowSid } = req.params as { AccountSid: string; FlowSid: string };
    const flow = core.store.flows.get(FlowSid);
    if (!flow || flow.accountSid !== AccountSid) throw notFound(`The requested resource /v1/Accounts/${AccountSid}/Flows/${FlowSid} was not found`);
    const raw = (req.method === 'GET' ? req.query : req.body) ?? {};
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) params[k] = Array.isArray(v) ? String(v[0]) : String(v);
    const now = core.clock.now();
    const callSid = params.CallSid;
    if (callSid) {
      const existing = core.store.executionByCall.get(callSid);
      if (!existing && params.CallStatus === 'ringing' && !params.CallbackSource) {
        // A call reached the flow through its webhook (not the simulator): start an Execution for it.
        const call = core.store.calls.get(callSid);
        if (call) {
          const r = core.studio.startVoiceExecution(call, flow, now);
          if ('execution' in r) {
            call.executionSid = r.execution.sid;
            call.flowSid = flow.sid;
          }
        }
      } else {
        core.studio.receiveStatusCallback(flow.sid, params, now);
      }
    }
    return reply.code(200).type('text/xml').send(EMPTY_TWIML);
  };
  app.post('/webhooks/v1/Accounts/:AccountSid/Flows/:FlowSid', { config: { endpoint: 'webhooks:Flows' } }, handler);
  app.get('/webhooks/v1/Accounts/:AccountSid/Flows/:FlowSid', { config: { endpoint: 'webhooks:Flows' } }, handler);
}
