//! `wasi:http/outgoing-handler` behind [`crate::outbound::send`].

use super::bindings::wasi::http::outgoing_handler;
use super::bindings::wasi::http::types::IncomingBody;
use super::bindings::wasi::http::types::{IncomingResponse, OutgoingBody, OutgoingRequest};
use super::bindings::wasi::io::streams::StreamError;
use super::http_glue::{
    READ_CHUNK, map_fields, to_fields, to_wasi_method, to_wasi_scheme, write_stream,
};
use crate::outbound::Error;
use crate::outbound::OutboundRequest;
use crate::task::reactor::Wait;
use crate::{Response, StatusCode};
use std::future::poll_fn;
use std::task::Poll;

/// Sends `req`; the response and its body are awaited on `wasi:io/poll`,
/// so other futures (other requests) make progress meanwhile.
pub(crate) async fn fetch(req: OutboundRequest) -> Result<Response, Error> {
    let url = req.uri().to_string();
    let failed = |reason: String| Error::Failed {
        url: url.clone(),
        reason,
    };
    let (mut parts, body) = req.into_parts();
    // The whole body is known: say how long it is, so the request is not
    // sent chunked (servers that cannot read chunked bodies exist).
    let has_body = !body.is_empty()
        || matches!(
            parts.method,
            http::Method::POST | http::Method::PUT | http::Method::PATCH
        );
    if has_body
        && !parts.headers.contains_key(http::header::CONTENT_LENGTH)
        && !parts.headers.contains_key(http::header::TRANSFER_ENCODING)
    {
        parts.headers.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(body.len()),
        );
    }
    let fields = to_fields(map_fields(&parts.headers)).map_err(Error::InvalidRequest)?;
    let out = OutgoingRequest::new(fields);
    out.set_method(&to_wasi_method(&parts.method))
        .map_err(|()| Error::InvalidRequest(format!("method {} not allowed", parts.method)))?;
    out.set_scheme(Some(&to_wasi_scheme(parts.uri.scheme())))
        .map_err(|()| Error::InvalidRequest("invalid scheme".into()))?;
    out.set_authority(parts.uri.authority().map(|a| a.as_str()))
        .map_err(|()| Error::InvalidRequest("invalid authority".into()))?;
    out.set_path_with_query(parts.uri.path_and_query().map(|p| p.as_str()))
        .map_err(|()| Error::InvalidRequest("invalid path".into()))?;
    let outgoing_body = out
        .body()
        .map_err(|()| Error::InvalidRequest("body already taken".into()))?;

    // Hand the request over first: the host consumes the body while we write.
    let future = outgoing_handler::handle(out, None).map_err(|e| failed(format!("{e:?}")))?;
    {
        let stream = outgoing_body
            .write()
            .map_err(|()| failed("body stream already taken".into()))?;
        write_stream(&stream, &body).map_err(failed)?;
    }
    OutgoingBody::finish(outgoing_body, None).map_err(|e| failed(format!("{e:?}")))?;

    let incoming = {
        let wait = Wait::new(future.subscribe());
        poll_fn(|cx| match future.get() {
            Some(result) => Poll::Ready(result),
            None => {
                if wait.ready(cx.waker()) {
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
        })
        .await
    };
    let incoming: IncomingResponse = incoming
        .map_err(|()| failed("response already taken".into()))?
        .map_err(|e| failed(format!("{e:?}")))?;

    let status = StatusCode::from_u16(incoming.status())
        .map_err(|_| failed(format!("invalid status {}", incoming.status())))?;
    // The fields are a child of the response: dropped before it is.
    let fields = incoming.headers().entries();
    let body = match incoming.consume() {
        Ok(body) => read_body(body).await.map_err(failed)?,
        Err(()) => Default::default(),
    };
    Ok(Response::from_host(status, fields, body))
}

/// Reads a whole incoming body, waiting on the stream's pollable whenever
/// no data is there yet.
async fn read_body(body: IncomingBody) -> Result<bytes::Bytes, String> {
    let stream = body
        .stream()
        .map_err(|()| "the body stream was already taken".to_owned())?;
    let mut bytes = Vec::new();
    {
        // Dropped before the stream it watches.
        let wait = Wait::new(stream.subscribe());
        loop {
            match stream.read(READ_CHUNK) {
                Ok(chunk) if chunk.is_empty() => {
                    poll_fn(|cx| {
                        if wait.ready(cx.waker()) {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    })
                    .await
                }
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(format!("reading the body failed: {}", e.to_debug_string()));
                }
            }
        }
    }
    drop(stream);
    drop(IncomingBody::finish(body));
    Ok(bytes::Bytes::from(bytes))
}
