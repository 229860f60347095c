// cargo fn: runs the published component in a JavaScript runtime.
//
// Written by `cargo fn deploy`; the same file for every JavaScript provider.
// The provider's entry module (worker.js, the Netlify function) passes each
// request here with a `platform`: where configuration comes from, and the
// key-value stores when the runtime has them.
//
// - WASI comes from @bytecodealliance/preview2-shim, its browser build
//   (which wasi.js names for the provider), with the interfaces the
//   platform replaces (`platform.wasi`); configuration and key-value are
//   implemented here.
// - Every request gets a fresh instance of the component, as under
//   `cargo fn serve`: no state carries over, and after a trap the next
//   request starts clean.
// - A body over the limit answers 413, a trap 500; a missing secret or
//   binding answers 500 naming it, at the first request that needs it.

import { instantiate } from "./component/fn.js";
import { cli, clocks, http, io, random } from "./wasi.js";

/// Thrown for a setting the deployment lacks (a secret, a binding).
export class Misconfigured extends Error {}

/// The WASI imports the shim provides, by interface.
const WASI = {
  "wasi:cli/environment": cli.environment,
  "wasi:cli/exit": cli.exit,
  "wasi:cli/stdin": cli.stdin,
  "wasi:cli/stdout": cli.stdout,
  "wasi:cli/stderr": cli.stderr,
  "wasi:cli/terminal-input": cli.terminalInput,
  "wasi:cli/terminal-output": cli.terminalOutput,
  "wasi:cli/terminal-stdin": cli.terminalStdin,
  "wasi:cli/terminal-stdout": cli.terminalStdout,
  "wasi:cli/terminal-stderr": cli.terminalStderr,
  "wasi:clocks/monotonic-clock": clocks.monotonicClock,
  "wasi:clocks/wall-clock": clocks.wallClock,
  "wasi:io/error": io.error,
  "wasi:io/poll": io.poll,
  "wasi:io/streams": io.streams,
  "wasi:random/random": random.random,
  "wasi:random/insecure": random.insecure,
  "wasi:random/insecure-seed": random.insecureSeed,
  "wasi:http/types": http.types,
  "wasi:http/outgoing-handler": http.outgoingHandler,
};

/// `wasi:config/store`: the declared keys, each from its variable
/// (FN_CONFIG_<KEY>) or its default.
function configStore(bundle, platform) {
  const value = (key) => {
    const decl = bundle.config[key];
    if (!decl) {
      return undefined;
    }
    const set = platform.variable(decl.env);
    if (set !== undefined && set !== null) {
      return String(set);
    }
    if (decl.default !== undefined) {
      return decl.default;
    }
    // checkSettings answers before the component runs: not reached.
    throw { tag: "upstream", val: `${decl.env} is not set` };
  };
  return {
    get: (key) => value(key),
    getAll: () => Object.keys(bundle.config).map((key) => [key, value(key)]),
  };
}

/// The settings the deployment lacks: required config variables and
/// bindings, each named with how to supply it.
function missingSettings(bundle, platform) {
  const missing = [];
  for (const [key, decl] of Object.entries(bundle.config)) {
    const set = platform.variable(decl.env);
    if ((set === undefined || set === null) && decl.default === undefined) {
      missing.push(`${decl.secret ? "secret" : "variable"} ${decl.env} (config \`${key}\`): ${platform.howToSet(decl)}`);
    }
  }
  for (const binding of platform.missingBindings?.() ?? []) {
    missing.push(binding);
  }
  return missing;
}

/// `wasi:keyvalue/store` and `wasi:keyvalue/atomics` over the platform's
/// stores (`platform.store(name)`: get/set/delete/list, and increment when
/// atomics are bound). Under JSPI (`platform.sync` unset) the store's
/// operations answer with promises the component waits for; on a runtime
/// without JSPI (`platform.sync`) they answer with values.
function keyValue(bundle, platform) {
  // Runs `op`, then `then` on its result, turning a failure into the WIT
  // error `other`: synchronously, or as a promise.
  const failure = (err) => ({ tag: "other", val: err instanceof Error ? err.message : String(err) });
  const call = platform.sync
    ? (op, then) => {
        let value;
        try {
          value = op();
        } catch (err) {
          throw failure(err);
        }
        return then(value);
      }
    : async (op, then) => {
        let value;
        try {
          value = await op();
        } catch (err) {
          throw failure(err);
        }
        return then(value);
      };
  const PAGE = 1000;
  class Bucket {
    #name;
    #store;
    constructor(name, store) {
      this.#name = name;
      this.#store = store;
    }
    static store(bucket) {
      return bucket.#store;
    }
    static storeName(bucket) {
      return bucket.#name;
    }
    get(key) {
      return call(
        () => this.#store.get(key),
        (value) => (value === null || value === undefined ? undefined : value),
      );
    }
    set(key, value) {
      return call(() => this.#store.set(key, value), () => undefined);
    }
    delete(key) {
      return call(() => this.#store.delete(key), () => undefined);
    }
    exists(key) {
      return call(
        () => this.#store.get(key),
        (value) => value !== null && value !== undefined,
      );
    }
    // The WIT cursor is a number: the count of keys already listed.
    listKeys(cursor) {
      const skip = cursor === undefined ? 0 : Number(cursor);
      return call(
        () => this.#store.list(skip, PAGE),
        ({ keys, more }) => ({ keys, cursor: more ? BigInt(skip + keys.length) : undefined }),
      );
    }
  }
  const store = {
    Bucket,
    open(name) {
      if (!bundle.stores.includes(name)) {
        throw { tag: "no-such-store" };
      }
      return new Bucket(name, platform.store(name));
    },
  };
  const atomics = {
    increment(bucket, key, delta) {
      return call(
        () => platform.increment(Bucket.storeName(bucket), Bucket.store(bucket), key, delta),
        (value) => BigInt(value),
      );
    },
  };
  return { store, atomics };
}

/// The import object for one instance.
function imports(bundle, platform) {
  const kv = keyValue(bundle, platform);
  return {
    ...WASI,
    // A runtime without JSPI replaces what would wait on a promise.
    ...platform.wasi,
    "wasi:config/store": configStore(bundle, platform),
    "wasi:keyvalue/store": kv.store,
    "wasi:keyvalue/atomics": kv.atomics,
  };
}

function text(status, body, headers = {}) {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/// Answers `request` with a fresh instance of the component.
export async function serve(bundle, platform, request) {
  const missing = missingSettings(bundle, platform);
  if (missing.length > 0) {
    const message = `${bundle.name} is not fully configured:\n${missing.map((m) => `  ${m}`).join("\n")}`;
    console.error(message);
    return text(500, message);
  }
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > bundle.maxBodyBytes) {
    return text(413, `request body over ${bundle.maxBodyBytes} bytes`);
  }
  let body;
  if (request.body) {
    body = await readLimited(request.body, bundle.maxBodyBytes);
    if (body === null) {
      return text(413, `request body over ${bundle.maxBodyBytes} bytes`);
    }
  }
  // handleIncomingRequest reads the body again: hand it the bytes.
  const buffered = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: body && body.byteLength > 0 ? body : undefined,
  });
  try {
    // A module is compiled, or a function compiling it on first use.
    const coreModule = (name) => {
      const module = bundle.modules[name];
      return typeof module === "function" ? module() : module;
    };
    const instance = await instantiate(coreModule, imports(bundle, platform));
    const handler = instance.incomingHandler ?? instance["wasi:http/incoming-handler"];
    return await http.handleIncomingRequest(buffered, handler.handle);
  } catch (err) {
    console.error(`${bundle.name}: the function failed: ${err?.stack ?? err}`);
    return text(500, "the function failed");
  }
}

/// The body's bytes, or null once it grows over `limit`.
async function readLimited(stream, limit) {
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/// A schedule tick as the native runners deliver it: a structured-mode
/// CloudEvent POSTed to the function's route.
export function scheduleRequest(bundle, { id, source, time, data }) {
  const event = {
    specversion: "1.0",
    id,
    source,
    type: "dev.cargo-fn.schedule",
    time,
    datacontenttype: "application/json",
    data,
  };
  return new Request(new URL(bundle.scheduleRoute, "http://localhost"), {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify(event),
  });
}
