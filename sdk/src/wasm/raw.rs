//! `wasi:http/types` calls made through hand-written imports instead of the
//! generated bindings, where the bindings would bring code no function
//! needs.
//!
//! Both calls carry a `wasi:http` `error-code` that the SDK never looks
//! into, and the generated functions would lower or lift every case of it
//! (39, some with strings): 1.2 KB each in every function.
//!
//! `response-outparam.set` takes a `result<outgoing-response, error-code>`;
//! the generated function lowers every case of `error-code` (39, some with
//! strings), 1.2 KB in every function, though the SDK only ever sends a
//! response (`http_glue::write_response` answers refused fields with a 500
//! response, not an `error-code`).
//!
//! The canonical ABI flattens the parameters to the outparam's handle, the
//! result's case (0: `ok`) and the joined flat payload of the two cases:
//! `outgoing-response`'s handle, or `error-code`'s case and largest payload
//! (`i32 i64 i32 i32 i32 i32`), left zero for `ok`.
//!
//! `outgoing-body.finish` returns a `result<_, error-code>` in memory: a
//! case byte, and the `error-code` at offset 8 (its case byte, its payload
//! at offset 8 of it, 32 bytes, aligned to 8 for the `u64`s). All the SDK
//! needs is whether it failed; the strings some cases carry were allocated
//! in this instance by the host (through `cabi_realloc`) and are freed here.

use std::alloc::Layout;

use super::bindings::wasi::http::types::{OutgoingBody, OutgoingResponse, ResponseOutparam};

// `wasi_http_types! { .. }`: an `extern` block importing from
// `wasi:http/types` at the version of the bindings' WIT (written by
// build.rs: `#[link]` takes only a literal).
include!(concat!(env!("OUT_DIR"), "/raw_imports.rs"));

wasi_http_types! {
    #[link_name = "[static]response-outparam.set"]
    fn response_outparam_set(
        param: i32,
        case: i32,
        payload0: i32,
        payload1: i32,
        payload2: i64,
        payload3: i32,
        payload4: i32,
        payload5: i32,
        payload6: i32,
    );

    #[link_name = "[static]outgoing-body.finish"]
    fn outgoing_body_finish(body: i32, has_trailers: i32, trailers: i32, ret: *mut u8);
}

/// `response-outparam.set(out, ok(response))`.
pub(crate) fn send_response(out: ResponseOutparam, response: OutgoingResponse) {
    // Both handles are owned and move to the host.
    let out = out.take_handle() as i32;
    let response = response.take_handle() as i32;
    // SAFETY: the import's flat signature (module docs); two owned handles.
    unsafe { response_outparam_set(out, 0, response, 0, 0, 0, 0, 0, 0) }
}

/// `outgoing-body.finish(body, none)`: `Err` when the host refused the body
/// (for example fewer bytes than its `content-length`).
pub(crate) fn finish_body(body: OutgoingBody) -> Result<(), ()> {
    let mut ret = RetArea([0; 40]);
    // SAFETY: the import's flat signature (module docs); the owned body
    // moves to the host; the return area is 40 bytes aligned to 8.
    unsafe { outgoing_body_finish(body.take_handle() as i32, 0, 0, ret.0.as_mut_ptr()) };
    if ret.0[0] == 0 {
        return Ok(());
    }
    free_error_code_strings(&ret.0[8..]);
    Err(())
}

/// `result<_, error-code>` as the canonical ABI lays it out.
#[repr(C, align(8))]
struct RetArea([u8; 40]);

/// Frees the strings in an `error-code` laid out in `code` (32 bytes).
fn free_error_code_strings(code: &[u8]) {
    let payload = &code[8..];
    // Where the case's `option<string>` is in the payload, if it has one.
    let string_at = match code[0] {
        // DNS-error { rcode: option<string>, .. }
        1 => Some(0),
        // TLS-alert-received { alert-id: option<u8>, alert-message: option<string> }
        14 => Some(4),
        // HTTP-request-header-size(option<field-size-payload>): the record
        // { field-name: option<string>, .. } at 4, when there is one.
        22 => (payload[0] == 1).then_some(4),
        // The other field-size-payload cases, and the option<string> ones:
        // HTTP-request-trailer-size, HTTP-response-header-size,
        // HTTP-response-trailer-size, HTTP-response-transfer-coding,
        // HTTP-response-content-coding, internal-error.
        24 | 27 | 30 | 31 | 32 | 38 => Some(0),
        _ => None,
    };
    let Some(at) = string_at else { return };
    if payload[at] != 1 {
        return;
    }
    let word =
        |i: usize| u32::from_le_bytes(payload[i..i + 4].try_into().expect("4 bytes")) as usize;
    let (ptr, len) = (word(at + 4), word(at + 8));
    if len != 0 {
        // SAFETY: the host allocated `len` bytes at `ptr` with alignment 1
        // through `cabi_realloc`, as it does for every string it returns;
        // this instance owns them and nothing else refers to them.
        unsafe { std::alloc::dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(len, 1)) };
    }
}
