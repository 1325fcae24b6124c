// One headless Chromium for a whole run of the browser suite (scripts/test.sh): launches it with
// the suite's flags and prints its WebSocket endpoint, which the test files reach through
// HOTWASM_BROWSER_WS (helpers.mjs launchBrowser: a fresh context per file). Runs until it gets
// SIGTERM or SIGINT; then closes the browser.
//
//   node tests/browser/chromium-server.mjs   → prints ws://127.0.0.1:PORT/…

import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './helpers.mjs';

const server = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, host: '127.0.0.1' });
console.log(server.wsEndpoint());
let closing = false;
const close = async () => {
  if (closing) return;
  closing = true;
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
