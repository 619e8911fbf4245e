/**
 * The `endpoint` and `status_class` labels of unstick_twilio_requests: every request the real `twilio` SDK makes for
 * unstick maps to a path template with no SID left (on Twilio's hosts and behind the emulator's product prefix),
 * anything else to `other`; and the client's error tap sees the requests that got no answer.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import Response from 'twilio/lib/http/response';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { OTHER_ENDPOINT, TWILIO_PATH_TEMPLATES, statusClass, twilioEndpoint } from '../../src/activities/metrics';
import { TwilioHttpClient, twilioHostRewrite, type RawErrorInfo, type RawResponseInfo } from '../../src/twilio/client';

const sid = (prefix: string) => `${prefix}${'0123456789abcdef'.repeat(2)}`;
const AC = sid('AC');
const CA = sid('CA');
const WS = sid('WS');
const WT = sid('WT');
const FW = sid('FW');
const FN = sid('FN');
const FT = sid('FT');
const PN = sid('PN');
const EV = sid('EV');
const SID_RE = /[A-Z]{2}[0-9a-f]{32}/;

/** The SDK, its requests recorded instead of sent (each answered with an empty 200). */
function recordingSdk(): { client: ReturnType<typeof twilio>; requests: { method: string; uri: string }[] } {
  const requests: { method: string; uri: string }[] = [];
  const httpClient = {
    request: <T>(opts: RequestClient.RequestOptions<T>) => {
      const query = opts.params ? `?${new URLSearchParams(opts.params as Record<string, string>).toString()}` : '';
      requests.push({ method: String(opts.method).toUpperCase(), uri: `${opts.uri}${query}` });
      return Promise.resolve(new Response<T>(200, {} as T, {}));
    },
  };
  return { client: twilio(AC, 'token', { accountSid: AC, httpClient: httpClient as unknown as RequestClient }), requests };
}

describe('Twilio endpoint labels (unstick_twilio_requests)', () => {
  it('every request unstick makes through the SDK maps to a template, SIDs as placeholders', async () => {
    const { client, requests } = recordingSdk();
    const flow = client.studio.v2.flows(FW);
    const tasks = client.taskrouter.v1.workspaces(WS).tasks;
    // Each call unstick's activities, audit and linker make (src/activities, src/audit), one by one.
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['GET /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json', () => client.calls(CA).fetch()],
      ['GET /2010-04-01/Accounts/{AccountSid}/Calls.json', () => client.calls.page({ status: 'completed', pageSize: 1000 })],
      ['GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json', () => client.incomingPhoneNumbers.page({ pageSize: 50 })],
      ['GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{IncomingPhoneNumberSid}.json', () => client.incomingPhoneNumbers(PN).fetch()],
      ['POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{IncomingPhoneNumberSid}.json', () => client.incomingPhoneNumbers(PN).update({ statusCallback: 'https://example.com/cb' })],
      ['GET /v2/Flows', () => client.studio.v2.flows.page({ pageSize: 50 })],
      ['GET /v2/Flows/{FlowSid}', () => flow.fetch()],
      ['GET /v2/Flows/{FlowSid}/Executions', () => flow.executions.page({ dateCreatedFrom: new Date(0), dateCreatedTo: new Date(), pageSize: 1000 })],
      ['GET /v2/Flows/{FlowSid}/Executions/{ExecutionSid}', () => flow.executions(FN).fetch()],
      ['POST /v2/Flows/{FlowSid}/Executions/{ExecutionSid}', () => flow.executions(FN).update({ status: 'ended' })],
      ['GET /v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Context', () => flow.executions(FN).executionContext().fetch()],
      ['GET /v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps', () => flow.executions(FN).steps.page({ pageSize: 1000 })],
      ['GET /v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{StepSid}', () => flow.executions(FN).steps(FT).fetch()],
      ['GET /v1/Workspaces', () => client.taskrouter.v1.workspaces.page({ pageSize: 1000 })],
      ['GET /v1/Workspaces/{WorkspaceSid}/Tasks', () => tasks.page({ assignmentStatus: ['pending', 'reserved', 'assigned'], pageSize: 200 })],
      ['GET /v1/Workspaces/{WorkspaceSid}/Tasks', () => tasks.page({ evaluateTaskAttributes: `call_sid == "${CA}"`, pageSize: 20 })],
      ['GET /v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}', () => tasks(WT).fetchWithHttpInfo()],
      ['POST /v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}', () => tasks(WT).update({ assignmentStatus: 'canceled', reason: 'unstick', ifMatch: '3' })],
    ];
    for (const [expected, call] of calls) {
      const before = requests.length;
      await call().catch(() => undefined); // the empty answer may not parse; the request is what counts
      const made = requests.slice(before);
      assert.equal(made.length, 1, expected);
      const { method, uri } = made[0]!;
      if (expected.includes('{')) assert.match(uri, SID_RE, 'the request itself names SIDs');
      for (const u of [uri, twilioHostRewrite(uri, 'http://127.0.0.1:4010')]) {
        const endpoint = twilioEndpoint(method, u);
        assert.equal(endpoint, expected, u);
        assert.doesNotMatch(endpoint, SID_RE);
      }
    }
  });

  const table: Array<[string, string, string]> = [
    // A next page's URL, on Twilio's host and on the emulator's.
    ['GET', `https://taskrouter.twilio.com/v1/Workspaces/${WS}/Tasks?AssignmentStatus=pending&PageSize=200&Page=1&PageToken=PT${WT}`, 'GET /v1/Workspaces/{WorkspaceSid}/Tasks'],
    ['GET', `http://127.0.0.1:4010/api/2010-04-01/Accounts/${AC}/Calls.json?Status=completed&PageSize=1000`, 'GET /2010-04-01/Accounts/{AccountSid}/Calls.json'],
    ['get', `https://studio.twilio.com/v2/Flows/${FW}/Executions/${FN}/Steps/${FT}/Context`, 'GET /v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Steps/{StepSid}/Context'],
    ['GET', `https://taskrouter.twilio.com/v1/Workspaces/${WS}`, 'GET /v1/Workspaces/{WorkspaceSid}'],
    ['GET', `https://taskrouter.twilio.com/v1/Workspaces/${WS}/TaskChannels`, 'GET /v1/Workspaces/{WorkspaceSid}/TaskChannels'],
    ['GET', `https://taskrouter.twilio.com/v1/Workspaces/${WS}/Events/${EV}`, 'GET /v1/Workspaces/{WorkspaceSid}/Events/{EventSid}'],
    ['DELETE', `https://taskrouter.twilio.com/v1/Workspaces/${WS}/Tasks/${WT}`, 'DELETE /v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}'],
    // Paths unstick does not call, and ones that are not SIDs where a SID goes: one bounded fallback.
    ['GET', `https://taskrouter.twilio.com/v1/Workspaces/${WS}/Workers/${sid('WK')}`, OTHER_ENDPOINT],
    ['GET', `https://api.twilio.com/2010-04-01/Accounts/${AC}/Calls/${CA}/Recordings.json`, OTHER_ENDPOINT],
    ['GET', `https://api.twilio.com/2010-04-01/Accounts/${AC}/Calls/${CA}`, OTHER_ENDPOINT],
    ['GET', 'https://studio.twilio.com/v2/Flows/my-flow', OTHER_ENDPOINT],
    ['GET', `https://studio.twilio.com/v2/Flows/${FW}x`, OTHER_ENDPOINT],
    ['POST', `https://webhooks.twilio.com/v1/Accounts/${AC}/Flows/${FW}`, OTHER_ENDPOINT],
    ['GET', 'https://example.com/', OTHER_ENDPOINT],
    ['GET', 'not a url', OTHER_ENDPOINT],
    ['UNDEFINED METHOD', `https://studio.twilio.com/v2/Flows/${FW}`, OTHER_ENDPOINT],
  ];
  for (const [method, uri, expected] of table) {
    it(`${method} ${uri.length > 60 ? `…${uri.slice(-60)}` : uri} → ${expected}`, () => {
      assert.equal(twilioEndpoint(method, uri), expected);
    });
  }

  it('the label takes at most one value per method and template, plus other', () => {
    assert.equal(new Set(TWILIO_PATH_TEMPLATES).size, TWILIO_PATH_TEMPLATES.length);
    for (const t of TWILIO_PATH_TEMPLATES) assert.doesNotMatch(t, SID_RE);
  });

  it('status classes: 2xx to 5xx, error for no answer', () => {
    const cases: Array<[number | undefined, string]> = [[200, '2xx'], [201, '2xx'], [302, '3xx'], [404, '4xx'], [429, '4xx'], [503, '5xx'], [undefined, 'error'], [0, 'error'], [600, 'error']];
    for (const [code, cls] of cases) assert.equal(statusClass(code), cls, String(code));
  });

  it('the client taps a request that got no answer (onError) and one that did (onResponse)', async () => {
    const server = http.createServer((req, res) => {
      if (req.url?.includes('drop')) req.socket.destroy();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const errors: RawErrorInfo[] = [];
    const responses: RawResponseInfo[] = [];
    const client = new TwilioHttpClient({ timeout: 5_000, keepAlive: true, onError: (e) => errors.push(e), onResponse: (r) => responses.push(r) });
    try {
      await assert.rejects(client.request({ method: 'get', uri: `${base}/drop` }));
      assert.deepEqual(errors.map((e) => [e.method, e.uri]), [['GET', `${base}/drop`]]);
      assert.ok(errors[0]!.error instanceof Error);
      assert.equal(responses.length, 0);
      await client.request({ method: 'get', uri: `${base}/ok` });
      assert.deepEqual(responses.map((r) => [r.method, r.statusCode]), [['GET', 200]]);
      assert.equal(errors.length, 1);
    } finally {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
