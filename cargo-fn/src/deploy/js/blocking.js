// cargo fn: the WASI interfaces a component blocks on, made synchronous for
// Node.js without JSPI.
//
// Written by `cargo fn deploy --provider netlify`. The WASI shim's browser
// build waits for fetch and timers with promises, which only JSPI lets a
// component wait for. Here they answer at once instead:
//
// - `wasi:http/outgoing-handler`: the request is sent when the component
//   first asks for the response (`future-incoming-response.get`; by then it
//   has written and finished the body), by fetch on the worker thread of
//   sync.js, and the whole response is buffered. Requests run one after
//   the other, not concurrently.
// - `wasi:clocks/monotonic-clock`: timers are ready by the clock, not by a
//   promise, and blocking on one sleeps the thread.
// - `wasi:io/poll`: `poll` sleeps (Atomics.wait) until one of the
//   pollables is ready.
//
// Everything else, and every resource the component gets from elsewhere
// (the incoming request, the response it writes), stays the shim's.

import { fetchSync, SyncError } from "./sync.js";
import { clocks, http, io } from "./wasi.js";

const { Fields, IncomingBody, OutgoingBody, OutgoingRequest } = http.types;
const { inputStreamCreate, outputStreamCreate, pollableCreate } = io;

/// The longest a `poll` waits for a pollable before the call fails: the
/// platform stops the function well before.
const POLL_LIMIT_MS = 15 * 60 * 1000;
/// An outbound request's timeout when the component gives none.
const DEFAULT_TIMEOUT_MS = 60_000;
const MS_PER_NS = 1_000_000n;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
/// Fields wasi:http does not carry (the shim refuses them).
const CONNECTION_FIELDS = ["connection", "keep-alive", "host"];

/// The body of an outbound request, kept where the handler reads it. The
/// shim's `outgoing-body.finish` still applies (it is an `OutgoingBody`).
class BufferedBody extends OutgoingBody {
  #stream;
  #chunks;
  constructor(chunks) {
    super();
    this.#chunks = chunks;
    this.#stream = outputStreamCreate({
      write: (bytes) => {
        chunks.push(new Uint8Array(bytes));
      },
      blockingFlush() {},
      subscribe: () => pollableCreate(),
    });
  }
  write() {
    const stream = this.#stream;
    if (!stream) {
      throw undefined;
    }
    this.#stream = undefined;
    return stream;
  }
}

/// The chunks written to each request's body.
const bodies = new WeakMap();

class BufferedRequest extends OutgoingRequest {
  #body;
  body() {
    if (this.#body) {
      throw undefined;
    }
    const chunks = [];
    bodies.set(this, chunks);
    this.#body = new BufferedBody(chunks);
    return this.#body;
  }
}

/// A response body read from memory.
class BufferedIncomingBody extends IncomingBody {
  #stream;
  constructor(bytes) {
    super();
    let offset = 0;
    const read = (len) => {
      if (offset >= bytes.byteLength) {
        throw { tag: "closed" };
      }
      const end = Math.min(bytes.byteLength, offset + Number(len));
      const chunk = bytes.slice(offset, end);
      offset = end;
      return chunk;
    };
    this.#stream = inputStreamCreate({
      read,
      blockingRead: read,
      subscribe: () => pollableCreate(),
    });
  }
  stream() {
    const stream = this.#stream;
    if (!stream) {
      throw undefined;
    }
    this.#stream = undefined;
    return stream;
  }
}

class BufferedResponse {
  #status;
  #headers;
  #body;
  constructor(status, fields, body) {
    this.#status = status;
    this.#headers = Fields.fromList(
      fields
        .filter(([name]) => !CONNECTION_FIELDS.includes(name))
        .map(([name, value]) => [name, encoder.encode(value)]),
    );
    this.#body = new BufferedIncomingBody(body);
  }
  status() {
    return this.#status;
  }
  headers() {
    return this.#headers;
  }
  consume() {
    const body = this.#body;
    if (!body) {
      throw undefined;
    }
    this.#body = undefined;
    return body;
  }
}

class FutureResponse {
  #send;
  #result;
  #taken = false;
  constructor(send) {
    this.#send = send;
  }
  // Ready at once: `get` sends the request and waits for its answer.
  subscribe() {
    return pollableCreate();
  }
  get() {
    if (this.#taken) {
      return { tag: "err", val: undefined };
    }
    this.#result ??= this.#send();
    this.#taken = true;
    return { tag: "ok", val: this.#result };
  }
}

function methodName(method) {
  return (method.tag === "other" ? method.val : method.tag).toUpperCase();
}

function schemeName(scheme) {
  if (!scheme) {
    return "https";
  }
  return scheme.tag === "other" ? scheme.val.toLowerCase() : scheme.tag.toLowerCase();
}

/// The smaller of the request's connect and first-byte timeouts, in ms.
function timeoutMs(options) {
  const limits = [options?.connectTimeout?.(), options?.firstByteTimeout?.()].filter(
    (ns) => ns !== undefined,
  );
  if (limits.length === 0) {
    return DEFAULT_TIMEOUT_MS;
  }
  const ns = limits.reduce((a, b) => (a < b ? a : b));
  return Number(ns / MS_PER_NS);
}

function handle(request, options) {
  if (!(request instanceof BufferedRequest)) {
    throw { tag: "internal-error", val: "not a request of this component" };
  }
  const path = request.pathWithQuery();
  if (!path) {
    throw { tag: "HTTP-request-URI-invalid" };
  }
  const authority = request.authority();
  if (!authority) {
    throw { tag: "HTTP-request-URI-invalid" };
  }
  const url = `${schemeName(request.scheme())}://${authority}${path}`;
  const method = methodName(request.method());
  const headers = request
    .headers()
    .entries()
    .filter(([name]) => !CONNECTION_FIELDS.includes(name.toLowerCase()))
    .map(([name, value]) => [name, decoder.decode(value)]);
  const limit = timeoutMs(options);
  return new FutureResponse(() => {
    const chunks = bodies.get(request) ?? [];
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    try {
      const { status, fields, body: bytes } = fetchSync(url, method, headers, body, limit);
      return { tag: "ok", val: new BufferedResponse(status, fields, bytes) };
    } catch (err) {
      if (err instanceof SyncError && err.code) {
        return { tag: "err", val: err.code };
      }
      const message = err instanceof Error ? err.message : JSON.stringify(err);
      return { tag: "err", val: { tag: "internal-error", val: message } };
    }
  });
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/// Sleeps the thread for `ms` milliseconds.
function sleep(ms) {
  Atomics.wait(sleeper, 0, 0, ms);
}

/// A pollable ready once the monotonic clock reaches its deadline (ns), whose
/// `block` sleeps until then.
class Deadline extends io.poll.Pollable {
  #deadline;
  constructor(deadline) {
    super();
    this.#deadline = deadline;
  }
  ready() {
    return clocks.monotonicClock.now() >= this.#deadline;
  }
  block() {
    for (;;) {
      const left = this.#deadline - clocks.monotonicClock.now();
      if (left <= 0n) {
        return;
      }
      sleep(Math.max(1, Number(left / MS_PER_NS)));
    }
  }
}

/// The indices of the ready pollables of `list`, sleeping until one is.
function poll(list) {
  if (list.length === 0) {
    throw new Error("poll list must not be empty");
  }
  const start = Date.now();
  for (;;) {
    const ready = [];
    for (let i = 0; i < list.length; i++) {
      if (list[i].ready()) {
        ready.push(i);
      }
    }
    if (ready.length > 0) {
      return new Uint32Array(ready);
    }
    if (Date.now() - start > POLL_LIMIT_MS) {
      throw new Error(`no pollable became ready within ${POLL_LIMIT_MS / 1000} s`);
    }
    sleep(1);
  }
}

/// The imports that replace the shim's, by interface.
export const blocking = {
  "wasi:http/types": {
    ...http.types,
    OutgoingRequest: BufferedRequest,
    FutureIncomingResponse: FutureResponse,
    IncomingResponse: BufferedResponse,
  },
  "wasi:http/outgoing-handler": { handle },
  "wasi:clocks/monotonic-clock": {
    ...clocks.monotonicClock,
    subscribeDuration: (duration) => new Deadline(clocks.monotonicClock.now() + duration),
    subscribeInstant: (instant) => new Deadline(instant),
  },
  "wasi:io/poll": { ...io.poll, poll },
};
