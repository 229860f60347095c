// cargo fn: asynchronous work a component waits for on Node.js without JSPI.
//
// Written by `cargo fn deploy --provider netlify`. The component calls
// key-value and outbound HTTP synchronously, and Netlify Blobs and fetch
// answer only with promises, which a synchronous call on Node.js without
// JSPI cannot wait for. So each call goes to a worker thread running this
// same module (or the bundle it was bundled into), which does the work; the
// function's thread sleeps in Atomics.wait until the worker has posted the
// answer, then takes it off the MessagePort with receiveMessageOnPort.
//
// Each key-value store is the site's Blobs store `<function>-<store>`, with
// strong consistency (a read sees the write before it). Atomic increments
// are compare-and-swap loops on the entry's ETag (conditional writes).

import { getStore } from "@netlify/blobs";
import {
  MessageChannel,
  Worker,
  isMainThread,
  receiveMessageOnPort,
  workerData,
} from "node:worker_threads";

const ROLE = "cargo-fn-sync";
/// How long one key-value call may take before the component gets an error.
const BLOBS_TIMEOUT_MS = 10_000;
/// How often an increment retries when other writers keep winning.
const INCREMENT_ATTEMPTS = 100;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/// Thrown in the worker with a WIT error code for the caller.
class Coded extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const store = (name) => getStore({ name, consistency: "strong" });

/// What the worker does, by operation.
const OPERATIONS = {
  async get(name, key) {
    const value = await store(name).get(key, { type: "arrayBuffer" });
    return value === null ? null : new Uint8Array(value);
  },
  async set(name, key, value) {
    await store(name).set(key, new Blob([value]));
  },
  async delete(name, key) {
    await store(name).delete(key);
  },
  // Keys in order, `limit` of them after the first `skip`.
  async list(name, skip, limit) {
    const { blobs } = await store(name).list();
    const keys = blobs.map((blob) => blob.key).sort();
    return { keys: keys.slice(skip, skip + limit), more: skip + limit < keys.length };
  },
  // Counters are decimal text, as `cargo fn serve` stores them. Read the
  // value and its ETag, write the sum only if the entry is still that one
  // (or still absent), else read again.
  async increment(name, key, delta) {
    const blobs = store(name);
    for (let attempt = 0; attempt < INCREMENT_ATTEMPTS; attempt++) {
      const current = await blobs.getWithMetadata(key, { type: "text" });
      let value = 0n;
      if (current !== null) {
        if (!/^[0-9]+$/.test(current.data)) {
          throw new Error(`incrementing \`${key}\`: its value is not a decimal number`);
        }
        value = BigInt(current.data);
      }
      const next = value + BigInt(delta);
      if (next > U64_MAX) {
        throw new Error(`incrementing \`${key}\` by ${delta}: over the u64 range`);
      }
      const condition =
        current === null ? { onlyIfNew: true } : { onlyIfMatch: current.etag };
      const { modified } = await blobs.set(key, next.toString(), condition);
      if (modified) {
        return next.toString();
      }
    }
    throw new Error(`incrementing \`${key}\`: still contended after ${INCREMENT_ATTEMPTS} attempts`);
  },
  // One outbound request, answered whole. Redirects are the component's
  // to follow, as under wasi:http.
  async fetch(url, method, headers, body, timeoutMs) {
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body && method !== "GET" && method !== "HEAD" ? body : undefined,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw fetchError(err);
    }
    let bytes;
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      throw new Coded({ tag: "HTTP-response-incomplete" }, `reading the response: ${err.message}`);
    }
    const fields = [];
    // fetch has decoded a compressed body: its encoding and length no
    // longer describe the bytes handed on.
    const decoded = response.headers.has("content-encoding");
    response.headers.forEach((value, name) => {
      if (!(decoded && (name === "content-encoding" || name === "content-length"))) {
        fields.push([name, value]);
      }
    });
    return { status: response.status, fields, body: bytes };
  },
};

/// The wasi:http error code of a failed fetch.
function fetchError(err) {
  const cause = err?.cause;
  const message = cause?.message ?? err?.message ?? String(err);
  if (err?.name === "TimeoutError" || err?.name === "AbortError") {
    return new Coded({ tag: "connection-timeout" }, message);
  }
  switch (cause?.code) {
    case "ECONNREFUSED":
      return new Coded({ tag: "connection-refused" }, message);
    case "ECONNRESET":
      return new Coded({ tag: "connection-terminated" }, message);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new Coded({ tag: "DNS-error", val: { rcode: cause.code, infoCode: undefined } }, message);
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return new Coded({ tag: "connection-timeout" }, message);
    default:
      return new Coded({ tag: "internal-error", val: message }, message);
  }
}

if (!isMainThread && workerData?.role === ROLE) {
  // The worker: answers each call on the port, then wakes the caller.
  const { port } = workerData;
  port.on("message", async ({ id, signal, context, operation, args }) => {
    let reply;
    try {
      if (context) {
        globalThis.netlifyBlobsContext = context;
      }
      reply = { id, value: await OPERATIONS[operation](...args) };
    } catch (err) {
      reply = { id, error: err instanceof Error ? err.message : String(err), code: err?.code };
    }
    port.postMessage(reply);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
}

let bridge;
let lastId = 0;

/// An operation the worker could not do: `code` is the WIT error for the
/// component, when the operation has one.
export class SyncError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/// Runs `operation` in the worker and waits up to `timeoutMs` for its
/// answer.
function call(timeoutMs, operation, ...args) {
  bridge ??= startWorker();
  const id = ++lastId;
  const signal = new Int32Array(new SharedArrayBuffer(4));
  bridge.port.postMessage({ id, signal, context: blobsContext(), operation, args });
  if (Atomics.wait(signal, 0, 0, timeoutMs) === "timed-out") {
    throw new SyncError(`${operation} did not finish within ${timeoutMs / 1000} s`, {
      tag: "connection-timeout",
    });
  }
  for (;;) {
    const received = receiveMessageOnPort(bridge.port);
    if (!received) {
      throw new SyncError(`${operation} gave no answer`);
    }
    // Skip the late answer of a call that timed out.
    if (received.message.id !== id) {
      continue;
    }
    if ("error" in received.message) {
      throw new SyncError(received.message.error, received.message.code);
    }
    return received.message.value;
  }
}

function startWorker() {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { role: ROLE, port: port2 },
    transferList: [port2],
  });
  // Neither keeps the function's process alive.
  worker.unref();
  port1.unref();
  return { worker, port: port1 };
}

/// Where Netlify tells @netlify/blobs how to reach the site's stores: the
/// worker thread sees neither the function's globals nor later changes to
/// its environment, so it is sent along with every call.
function blobsContext() {
  return (
    globalThis.netlifyBlobsContext ??
    globalThis.Netlify?.env.get("NETLIFY_BLOBS_CONTEXT") ??
    process.env.NETLIFY_BLOBS_CONTEXT
  );
}

/// The key-value store `name` of the function `functionName`, answering
/// synchronously.
export function blobStore(functionName, name) {
  const store = `${functionName}-${name}`;
  const blobs = (operation, ...args) => {
    try {
      return call(BLOBS_TIMEOUT_MS, operation, store, ...args);
    } catch (err) {
      throw new Error(`Netlify Blobs, ${operation} in store ${store}: ${err.message}`);
    }
  };
  return {
    get: (key) => blobs("get", key),
    set: (key, value) => blobs("set", key, value),
    delete: (key) => blobs("delete", key),
    list: (skip, limit) => blobs("list", skip, limit),
    increment: (key, delta) => blobs("increment", key, delta),
  };
}

/// One outbound request, synchronously: `{ status, fields, body }`, or a
/// SyncError whose `code` is a wasi:http error code.
export function fetchSync(url, method, headers, body, timeoutMs) {
  // The worker's own timeout fires first; this one only guards the wait.
  return call(timeoutMs + 1_000, "fetch", url, method, headers, body, timeoutMs);
}
