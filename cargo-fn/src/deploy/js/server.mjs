// cargo fn: serves the component on Node.js with jco's WASI shim, the
// Node.js build of @bytecodealliance/preview2-shim (what `jco serve` runs).
//
// Written by `cargo fn deploy --provider jco`. `node server.mjs` listens on
// $PORT (8080) at $HOST (127.0.0.1), and gives every request a fresh
// instance of the component, as `cargo fn serve` does: no state carries
// over, and after a trap the next request starts clean. A request whose
// Content-Length is over the limit of `cargo fn serve` answers 413 before
// the component runs (the shim streams bodies: a chunked body is not
// counted).
//
// Key-value and config: the shim has neither, so a function that uses them
// is the published function composed with the files adapter (see
// fn-bundle.json): each store is a folder under $FN_KV_DIR (kv/ next to this
// file by default), preopened for the component, and config comes from
// FN_CONFIG_<KEY> variables, whose declared defaults are filled in here.

import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cli, clocks, filesystem, http, io, random } from "@bytecodealliance/preview2-shim";
import { instantiate } from "./component/fn.js";

const bundle = JSON.parse(readFileSync(new URL("./fn-bundle.json", import.meta.url), "utf8"));

// Variables the component sees: the process's, plus config defaults and
// the key-value directory.
const variables = {};
for (const [key, decl] of Object.entries(bundle.config)) {
  if (process.env[decl.env] === undefined && decl.default !== undefined) {
    variables[decl.env] = decl.default;
  }
}
if (bundle.stores.length > 0) {
  const kv = process.env.FN_KV_DIR ?? fileURLToPath(new URL("./kv", import.meta.url));
  for (const store of bundle.stores) {
    mkdirSync(`${kv}/${store}`, { recursive: true });
  }
  variables.FN_KV_DIR = kv;
  // The component sees the directory at its own path.
  filesystem._setPreopens({ [kv]: kv });
} else {
  // Nothing of the host's filesystem is the component's.
  filesystem._clearPreopens();
}
cli._appendEnv(variables);

const missing = Object.entries(bundle.config)
  .filter(([, decl]) => process.env[decl.env] === undefined && decl.default === undefined)
  .map(([key, decl]) => `${decl.secret ? "secret" : "variable"} ${decl.env} (config \`${key}\`)`);
if (missing.length > 0) {
  console.error(`${bundle.name}: set before starting: ${missing.join(", ")}`);
  process.exit(1);
}

const imports = {
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
  "wasi:filesystem/preopens": filesystem.preopens,
  "wasi:filesystem/types": filesystem.types,
  "wasi:io/error": io.error,
  "wasi:io/poll": io.poll,
  "wasi:io/streams": io.streams,
  "wasi:random/random": random.random,
  "wasi:random/insecure": random.insecure,
  "wasi:random/insecure-seed": random.insecureSeed,
  "wasi:http/types": http.types,
  "wasi:http/outgoing-handler": http.outgoingHandler,
};

// Each core module compiled once, at start-up.
const modules = new Map();
const coreModule = (name) => {
  let module = modules.get(name);
  if (!module) {
    module = new WebAssembly.Module(readFileSync(new URL(`./component/${name}`, import.meta.url)));
    modules.set(name, module);
  }
  return module;
};

const { OutgoingBody, OutgoingResponse, ResponseOutparam, Fields } = http.types;

/// Answers `status` with the line `text`, in place of the component.
function answer(responseOut, status, text) {
  const response = new OutgoingResponse(new Fields());
  response.setStatusCode(status);
  const body = response.body();
  ResponseOutparam.set(responseOut, { tag: "ok", val: response });
  const stream = body.write();
  stream.blockingWriteAndFlush(new TextEncoder().encode(`${text}\n`));
  stream[Symbol.dispose]?.();
  OutgoingBody.finish(body, undefined);
}

const decoder = new TextDecoder();

/// The request's Content-Length, or 0.
function contentLength(request) {
  const [value] = request.headers().get("content-length");
  return value === undefined ? 0 : Number(decoder.decode(value));
}

const server = new http.HTTPServer({
  handle(request, responseOut) {
    if (contentLength(request) > bundle.maxBodyBytes) {
      answer(responseOut, 413, `request body over ${bundle.maxBodyBytes} bytes`);
      return;
    }
    try {
      const instance = instantiate(coreModule, imports);
      const handler = instance.incomingHandler ?? instance["wasi:http/incoming-handler"];
      handler.handle(request, responseOut);
    } catch (err) {
      console.error(`${bundle.name}: the function failed: ${err?.stack ?? err}`);
      try {
        answer(responseOut, 500, "the function failed");
      } catch {
        // It had answered before it failed.
      }
    }
  },
});
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? "127.0.0.1";
server.listen(port, host);
console.log(`${bundle.name} (${bundle.digest}) listening on http://${host}:${port}/`);
