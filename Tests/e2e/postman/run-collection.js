#!/usr/bin/env node
// A small Postman collection runner: executes a v2.1 collection *unchanged* — its own
// pre-request signing script and its test scripts — against a live server, the way the
// Postman app or newman would, and exits non-zero unless every test passed.
//
//   NODE_PATH=/usr/share/nodejs node run-collection.js COLLECTION.json base_url=http://… api_key=… api_secret=…
//
// It provides the parts of the Postman sandbox the vendor's collection uses: `pm.environment`,
// `pm.collectionVariables`, `pm.variables.replaceIn` (with `{{$timestamp}}`, `{{$guid}}`,
// `{{$randomInt}}`), `pm.request` (method, url.path, url.getQueryString, headers.upsert, body),
// `pm.response` (json, text, code, headers, `to.be.json`, `to.be.withBody`, `to.have.status`),
// `pm.test`, `pm.expect` (chai, from Debian's `chai` package) and `CryptoJS.SHA256` /
// `CryptoJS.HmacSHA256` with `enc.Hex` / `enc.Base64` (backed by node's crypto, as Postman
// bundles crypto-js). Scripts run in a `vm` context, collection → folder → request, as Postman
// orders them.
'use strict';

const fs = require('fs');
const vm = require('vm');
const nodeCrypto = require('crypto');
const chai = require('chai');

function usage() {
  console.error('usage: run-collection.js COLLECTION.json name=value ... (environment variables)');
  process.exit(2);
}

const [collectionPath, ...assignments] = process.argv.slice(2);
if (!collectionPath) usage();
const collection = JSON.parse(fs.readFileSync(collectionPath, 'utf8'));

const environment = new Map();
for (const assignment of assignments) {
  const eq = assignment.indexOf('=');
  if (eq < 1) usage();
  environment.set(assignment.slice(0, eq), assignment.slice(eq + 1));
}
const collectionVariables = new Map((collection.variable || []).map((v) => [v.key, v.value]));

// ---- CryptoJS (the subset Postman's sandbox offers and the collection uses) ----
class WordArray {
  constructor(buffer) { this.buffer = buffer; }
  toString(encoder) { return (encoder || CryptoJS.enc.Hex).stringify(this); }
}
const CryptoJS = {
  enc: {
    Hex: { stringify: (w) => w.buffer.toString('hex') },
    Base64: { stringify: (w) => w.buffer.toString('base64') },
    Utf8: { stringify: (w) => w.buffer.toString('utf8'), parse: (s) => new WordArray(Buffer.from(s, 'utf8')) },
  },
  SHA256: (message) => new WordArray(nodeCrypto.createHash('sha256').update(toBuffer(message)).digest()),
  HmacSHA256: (message, key) => new WordArray(nodeCrypto.createHmac('sha256', toBuffer(key)).update(toBuffer(message)).digest()),
};
function toBuffer(value) {
  if (value instanceof WordArray) return value.buffer;
  return Buffer.from(String(value), 'utf8');
}

// ---- variables ----
function makeResolver(locals) {
  const dynamic = new Map(); // one value per dynamic variable per request, as a request is one moment
  function lookup(name) {
    if (name.startsWith('$')) {
      if (!dynamic.has(name)) {
        switch (name) {
          case '$timestamp': dynamic.set(name, String(Math.floor(Date.now() / 1000))); break;
          case '$guid': dynamic.set(name, nodeCrypto.randomUUID()); break;
          case '$randomInt': dynamic.set(name, String(Math.floor(Math.random() * 1001))); break;
          default: return undefined;
        }
      }
      return dynamic.get(name);
    }
    for (const scope of [locals, environment, collectionVariables]) {
      if (scope.has(name)) {
        const value = scope.get(name);
        // A collection variable that refers to itself (base_url = "{{base_url}}") defers to
        // the next scope, which is what Postman's precedence yields.
        if (value === `{{${name}}}`) continue;
        return value;
      }
    }
    return undefined;
  }
  function replaceIn(text) {
    let result = String(text);
    for (let depth = 0; depth < 10; depth++) {
      const next = result.replace(/\{\{([^{}]+)\}\}/g, (whole, name) => {
        const value = lookup(name.trim());
        return value === undefined ? whole : String(value);
      });
      if (next === result) break;
      result = next;
    }
    return result;
  }
  return { lookup, replaceIn };
}

// ---- pm.request ----
function makeRequest(item) {
  const definition = item.request;
  const headers = (definition.header || []).map((h) => ({ key: h.key, value: h.value, disabled: h.disabled }));
  const url = definition.url;
  const query = (url.query || []).map((q) => ({ key: q.key, value: q.value, disabled: q.disabled }));
  const queryList = { each: (fn) => query.forEach(fn), all: () => query };
  return {
    method: definition.method,
    url: {
      raw: url.raw,
      host: url.host,
      path: url.path || [],
      query: queryList,
      getQueryString(options) {
        const ignoreDisabled = !options || options.ignoreDisabled !== false;
        return query
          .filter((q) => !(ignoreDisabled && q.disabled))
          .map((q) => (q.value === undefined || q.value === null ? q.key : `${q.key}=${q.value}`))
          .join('&');
      },
    },
    headers: {
      upsert({ key, value }) {
        const existing = headers.find((h) => h.key.toLowerCase() === key.toLowerCase());
        if (existing) existing.value = value; else headers.push({ key, value });
      },
      add({ key, value }) { headers.push({ key, value }); },
      get(key) { const h = headers.find((x) => x.key.toLowerCase() === key.toLowerCase()); return h && h.value; },
      all: () => headers,
    },
    body: definition.body ? { mode: definition.body.mode, raw: definition.body.raw } : undefined,
    _headers: headers,
    _query: query,
  };
}

// ---- pm.response ----
function makeResponse(status, headerMap, text) {
  const response = {
    code: status,
    status: String(status),
    headers: { get: (key) => headerMap.get(String(key).toLowerCase()) },
    text: () => text,
    json: () => JSON.parse(text),
    responseTime: 0,
  };
  response.to = {
    be: {
      get withBody() { chai.expect(text, 'response has a body').to.be.a('string').and.not.equal(''); return true; },
      get json() {
        chai.expect(headerMap.get('content-type') || '', 'content-type is JSON').to.match(/json/i);
        chai.expect(() => JSON.parse(text), 'body parses as JSON').to.not.throw();
        return true;
      },
      get ok() { chai.expect(status).to.be.within(200, 299); return true; },
    },
    have: {
      status: (expected) => chai.expect(status).to.equal(expected),
      header: (name) => chai.expect(headerMap.has(String(name).toLowerCase()), `header ${name}`).to.equal(true),
    },
  };
  return response;
}

// ---- script execution ----
function scriptsFor(node, listen) {
  return (node.event || []).filter((e) => e.listen === listen).map((e) => {
    const exec = e.script && e.script.exec;
    return Array.isArray(exec) ? exec.join('\n') : String(exec || '');
  });
}

function runScript(source, sandbox, label) {
  const context = vm.createContext({
    ...sandbox,
    console: {
      log: (...a) => console.log(`    [${label}]`, ...a),
      info: (...a) => console.log(`    [${label}]`, ...a),
      warn: (...a) => console.warn(`    [${label}] warn:`, ...a),
      error: (...a) => console.error(`    [${label}] error:`, ...a),
    },
    CryptoJS,
    crypto: { randomUUID: () => nodeCrypto.randomUUID() },
    JSON,
    Math,
    Date,
  });
  vm.runInContext(source, context, { filename: label, timeout: 5000 });
}

const results = { passed: 0, failed: 0, requests: 0, errors: 0 };

async function runItem(item, parents) {
  const locals = new Map();
  const { replaceIn } = makeResolver(locals);
  const request = makeRequest(item);
  const tests = [];
  const pm = {
    environment: {
      get: (k) => environment.get(k), set: (k, v) => environment.set(k, v), has: (k) => environment.has(k),
      unset: (k) => environment.delete(k),
    },
    collectionVariables: {
      get: (k) => collectionVariables.get(k), set: (k, v) => collectionVariables.set(k, v), has: (k) => collectionVariables.has(k),
    },
    variables: {
      get: (k) => makeResolver(locals).lookup(k), set: (k, v) => locals.set(k, v), has: (k) => makeResolver(locals).lookup(k) !== undefined,
      replaceIn,
    },
    request,
    expect: chai.expect,
    test(name, fn) {
      try {
        fn();
        tests.push({ name, ok: true });
      } catch (error) {
        tests.push({ name, ok: false, error: error && error.message });
      }
    },
  };
  const chain = [collection, ...parents, item];
  for (const node of chain) {
    for (const source of scriptsFor(node, 'prerequest')) runScript(source, { pm }, `prerequest ${node.name || 'collection'}`);
  }

  const url = replaceIn(request.url.raw);
  const headers = {};
  for (const h of request._headers) if (!h.disabled) headers[h.key] = replaceIn(h.value);
  let body;
  if (request.body && request.body.mode === 'raw' && request.body.raw) body = replaceIn(request.body.raw);

  console.log(`→ ${item.name}\n  ${request.method} ${url}`);
  results.requests++;
  let response;
  try {
    const reply = await fetch(url, { method: request.method, headers, body });
    const text = await reply.text();
    const headerMap = new Map();
    reply.headers.forEach((value, key) => headerMap.set(key.toLowerCase(), value));
    response = makeResponse(reply.status, headerMap, text);
    console.log(`  ← ${reply.status} ${text.length > 300 ? text.slice(0, 300) + '…' : text}`);
  } catch (error) {
    results.errors++;
    console.log(`  ✗ request failed: ${error.message}`);
    return;
  }
  pm.response = response;
  for (const node of chain) {
    for (const source of scriptsFor(node, 'test')) runScript(source, { pm }, `test ${node.name || 'collection'}`);
  }
  for (const test of tests) {
    if (test.ok) results.passed++; else results.failed++;
    console.log(`  ${test.ok ? '✓' : '✗'} ${test.name}${test.ok ? '' : ` — ${test.error}`}`);
  }
}

async function walk(items, parents) {
  for (const item of items) {
    if (item.item) await walk(item.item, [...parents, item]);
    else await runItem(item, parents);
  }
}

walk(collection.item || [], [])
  .then(() => {
    console.log(`\n${results.requests} requests, ${results.passed} tests passed, ${results.failed} failed, ${results.errors} request errors`);
    process.exit(results.failed === 0 && results.errors === 0 && results.passed > 0 ? 0 : 1);
  })
  .catch((error) => {
    console.error('runner error:', error);
    process.exit(1);
  });
