/**
 * What run.mjs (the WebGL page) and webgpu.mjs (the WebGPU page) share: the Chromium flags that keep
 * a headless browser quiet and offline, and the way a page reports back to its Node server (it POSTs
 * a JSON body, a log line or a result, answered with 204).
 */

/** Headless, no sandbox (containers), and no network traffic of Chromium's own: there is no network here. */
export const QUIET_CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-extensions',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
];

/** Answers the POST and hands its JSON body to `onData` (a `fatal` note when it does not parse). */
export function receivePost(req, res, headers, onData) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    res.writeHead(204, headers).end();
    let data;
    try {
      data = JSON.parse(body);
    } catch {
      data = { fatal: `unparsable POST body: ${body.slice(0, 200)}` };
    }
    onData(data);
  });
}
