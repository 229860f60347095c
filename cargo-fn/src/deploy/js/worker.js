// cargo fn: the Cloudflare Worker around the published component.
//
// Written by `cargo fn deploy --provider cloudflare`. HTTP requests and
// cron ticks go to the component (see glue.js); configuration comes from
// `vars` and secrets, each store of `wasi:keyvalue` is a KV namespace, and
// atomic increments go through the FnAtomics Durable Object, one object per
// store and key, which mirrors each new value into KV.

import { DurableObject } from "cloudflare:workers";
import { bundle } from "./fn-bundle.js";
import { Misconfigured, scheduleRequest, serve } from "./glue.js";

function platform(env) {
  const binding = (store) => bundle.kvBindings[store];
  return {
    variable: (name) => env[name],
    howToSet: (decl) =>
      decl.secret
        ? `run \`wrangler secret put ${decl.env}\``
        : `add it to "vars" in wrangler.jsonc`,
    missingBindings() {
      const missing = [];
      for (const store of bundle.stores) {
        if (!env[binding(store)]) {
          missing.push(`KV namespace binding ${binding(store)} (key-value store \`${store}\`): add it to "kv_namespaces" in wrangler.jsonc`);
        }
      }
      if (bundle.atomicsBinding && !env[bundle.atomicsBinding]) {
        missing.push(`Durable Object binding ${bundle.atomicsBinding} (atomic increments): keep it in "durable_objects" in wrangler.jsonc`);
      }
      return missing;
    },
    store(name) {
      const kv = env[binding(name)];
      if (!kv) {
        throw new Misconfigured(`no KV namespace bound as ${binding(name)}`);
      }
      return {
        get: async (key) => {
          const value = await kv.get(key, "arrayBuffer");
          return value === null ? null : new Uint8Array(value);
        },
        set: (key, value) => kv.put(key, value),
        delete: (key) => kv.delete(key),
        async list(skip, limit) {
          const keys = [];
          let cursor;
          let seen = 0;
          for (;;) {
            const page = await kv.list({ cursor });
            for (const { name } of page.keys) {
              if (seen++ >= skip && keys.length < limit) {
                keys.push(name);
              }
            }
            if (page.list_complete) {
              return { keys, more: false };
            }
            if (keys.length >= limit) {
              return { keys, more: true };
            }
            cursor = page.cursor;
          }
        },
      };
    },
    async increment(store, _bucket, key, delta) {
      const atomics = env[bundle.atomicsBinding];
      if (!atomics) {
        throw new Misconfigured(`no Durable Object bound as ${bundle.atomicsBinding}`);
      }
      const counter = atomics.get(atomics.idFromName(`${store}/${key}`));
      return counter.increment(store, key, delta.toString());
    },
  };
}

export default {
  fetch(request, env) {
    return serve(bundle, platform(env), request);
  },
  async scheduled(controller, env, ctx) {
    const tick = scheduleRequest(bundle, {
      id: crypto.randomUUID(),
      source: `/cloudflare/workers/${bundle.name}`,
      time: new Date(controller.scheduledTime).toISOString(),
      data: { cron: controller.cron },
    });
    const response = await serve(bundle, platform(env), tick);
    if (!response.ok) {
      // A failed tick is retried by nobody: make it visible.
      throw new Error(`${bundle.name}: schedule tick answered ${response.status}: ${await response.text()}`);
    }
  },
};

/// One counter of a key-value store: increments are serialised by the
/// object, so none is lost; the new value is written to KV as decimal
/// text, as `cargo fn serve` stores counters.
export class FnAtomics extends DurableObject {
  async increment(store, key, delta) {
    const kv = this.env[bundle.kvBindings[store]];
    let value = await this.ctx.storage.get("value");
    if (value === undefined) {
      // First increment: start from what KV holds.
      const current = await kv.get(key);
      value = current === null ? 0n : parseCounter(key, current);
    } else {
      value = BigInt(value);
    }
    const next = value + BigInt(delta);
    if (next > 0xffff_ffff_ffff_ffffn) {
      throw new Error(`incrementing \`${key}\` by ${delta}: over the u64 range`);
    }
    await this.ctx.storage.put("value", next.toString());
    await kv.put(key, next.toString());
    return next.toString();
  }
}

function parseCounter(key, text) {
  if (!/^[0-9]+$/.test(text)) {
    throw new Error(`incrementing \`${key}\`: its value is not a decimal number`);
  }
  return BigInt(text);
}
