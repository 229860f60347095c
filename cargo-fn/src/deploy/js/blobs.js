// cargo fn: `wasi:keyvalue/store` on Netlify Blobs, for Node.js without JSPI.
//
// Written by `cargo fn deploy --provider netlify`. The component calls
// key-value synchronously and Netlify Blobs answers only with promises,
// which a synchronous call on Node.js without JSPI cannot wait for. So each
// call goes to a worker thread running this same module (or the bundle it
// was bundled into), which calls Netlify Blobs; the function's thread
// sleeps in Atomics.wait until the worker has posted the answer, then takes
// it off the MessagePort with receiveMessageOnPort.
//
// Each key-value store is the site's Blobs store `<function>-<store>`, with
// strong consistency (a read sees the write before it).

import { getStore } from "@netlify/blobs";
import {
  MessageChannel,
  Worker,
  isMainThread,
  receiveMessageOnPort,
  workerData,
} from "node:worker_threads";

const ROLE = "cargo-fn-blobs";
/// How long one call may take before the component gets an error.
const TIMEOUT_MS = 10_000;

/// What the worker does, by operation.
const OPERATIONS = {
  async get(store, key) {
    const value = await store.get(key, { type: "arrayBuffer" });
    return value === null ? null : new Uint8Array(value);
  },
  async set(store, key, value) {
    await store.set(key, new Blob([value]));
  },
  async delete(store, key) {
    await store.delete(key);
  },
  // Keys in order, `limit` of them after the first `skip`.
  async list(store, skip, limit) {
    const { blobs } = await store.list();
    const keys = blobs.map((blob) => blob.key).sort();
    return { keys: keys.slice(skip, skip + limit), more: skip + limit < keys.length };
  },
};

if (!isMainThread && workerData?.role === ROLE) {
  // The worker: answers each call on the port, then wakes the caller.
  const { port } = workerData;
  port.on("message", async ({ id, signal, context, operation, store, args }) => {
    let reply;
    try {
      if (context) {
        globalThis.netlifyBlobsContext = context;
      }
      const blobs = getStore({ name: store, consistency: "strong" });
      reply = { id, value: await OPERATIONS[operation](blobs, ...args) };
    } catch (err) {
      reply = { id, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
}

let bridge;
let lastId = 0;

/// Runs `operation` on `store` in the worker and waits for its answer.
function call(operation, store, ...args) {
  bridge ??= startWorker();
  const id = ++lastId;
  const signal = new Int32Array(new SharedArrayBuffer(4));
  bridge.port.postMessage({ id, signal, context: blobsContext(), operation, store, args });
  if (Atomics.wait(signal, 0, 0, TIMEOUT_MS) === "timed-out") {
    throw new Error(`Netlify Blobs did not answer ${operation} in store ${store} within ${TIMEOUT_MS / 1000} s`);
  }
  for (;;) {
    const received = receiveMessageOnPort(bridge.port);
    if (!received) {
      throw new Error(`Netlify Blobs gave no answer to ${operation} in store ${store}`);
    }
    // Skip the late answer of a call that timed out.
    if (received.message.id !== id) {
      continue;
    }
    if ("error" in received.message) {
      throw new Error(received.message.error);
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
  return {
    get: (key) => call("get", store, key),
    set: (key, value) => call("set", store, key, value),
    delete: (key) => call("delete", store, key),
    list: (skip, limit) => call("list", store, skip, limit),
  };
}
