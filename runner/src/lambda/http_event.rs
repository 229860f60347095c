//! HTTP events: API Gateway REST APIs (payload 1.0), HTTP APIs and
//! Function URLs (payload 2.0), Application Load Balancers.
//!
//! The shapes and their conversions are `lambda_http`'s: the event becomes
//! an `http::Request` (multi-value headers and query strings, the body
//! base64-decoded when `isBase64Encoded`, the REST API stage in the path
//! unless `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set), and the
//! function's response goes back in the shape of the event's origin:
//! `multiValueHeaders` for REST APIs, `headers` plus `cookies` (the
//! `set-cookie`s) for payload 2.0, both header forms and a
//! `statusDescription` for ALB; a body whose `content-type` is not text
//! (`text/*`, JSON, XML, YAML, JavaScript) or that has a
//! `content-encoding` is sent base64-encoded.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http_body_util::Full;
use lambda_http::aws_lambda_events::alb::AlbTargetGroupRequest;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Service as _};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Which HTTP origin an event comes from, judged by the fields only that
/// origin sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// API Gateway REST API (payload format 1.0).
    RestApi,
    /// API Gateway HTTP API or Lambda Function URL (payload format 2.0).
    HttpApi,
    /// Application Load Balancer.
    Alb,
}

impl Origin {
    /// The origin of `payload`, or `None` when it is not an HTTP event.
    ///
    /// `lambda_http` would try each shape in turn, and a payload 2.0 event
    /// that also carries an `httpMethod` (some emulators send one) reads as
    /// a REST API event; the markers below don't overlap.
    pub fn of(payload: &Value) -> Option<Origin> {
        let context = payload.get("requestContext")?;
        if payload["version"] == "2.0" && context.get("http").is_some() {
            Some(Origin::HttpApi)
        } else if context.get("elb").is_some() {
            Some(Origin::Alb)
        } else if payload.get("httpMethod").is_some() {
            Some(Origin::RestApi)
        } else {
            None
        }
    }

    /// The event as `lambda_http` reads it.
    fn parse(self, payload: Value) -> Result<LambdaRequest, String> {
        fn read<T: DeserializeOwned>(payload: Value, what: &str) -> Result<T, String> {
            serde_json::from_value(payload).map_err(|e| format!("a malformed {what} event: {e}"))
        }
        Ok(match self {
            Origin::RestApi => LambdaRequest::ApiGatewayV1(read::<ApiGatewayProxyRequest>(
                payload,
                "API Gateway REST API",
            )?),
            Origin::HttpApi => LambdaRequest::ApiGatewayV2(read::<ApiGatewayV2httpRequest>(
                payload,
                "API Gateway HTTP API / Function URL",
            )?),
            Origin::Alb => LambdaRequest::Alb(read::<AlbTargetGroupRequest>(
                payload,
                "Application Load Balancer",
            )?),
        })
    }
}

/// Answers the HTTP event `payload` from `origin` with `call` (the
/// function): returns the response in the origin's shape, or why the event
/// could not be read.
pub async fn handle<F, Fut>(
    origin: Origin,
    payload: Value,
    context: Context,
    call: F,
) -> Result<Value, String>
where
    F: Fn(http::Request<Bytes>) -> Fut + Clone + Send,
    Fut: Future<Output = http::Response<Bytes>> + Send,
{
    let request = origin.parse(payload)?;
    let service = lambda_http::service_fn(move |request: lambda_http::Request| {
        let call = call.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = Bytes::copy_from_slice(&body);
            let response = call(http::Request::from_parts(parts, body)).await;
            Ok::<_, Infallible>(response.map(Full::new))
        }
    });
    let response = Adapter::from(service)
        .call(LambdaEvent::new(request, context))
        .await
        .unwrap_or_else(|never| match never {});
    serde_json::to_value(response).map_err(|e| format!("cannot encode the response: {e}"))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use super::*;

    /// Runs `payload` through a function that records its request and
    /// answers `response`.
    async fn roundtrip(
        payload: Value,
        response: http::Response<Bytes>,
    ) -> (http::Request<Bytes>, Value) {
        let origin = Origin::of(&payload).expect("an HTTP event");
        let seen = Arc::new(Mutex::new(None));
        let recorder = seen.clone();
        let shaped = handle(origin, payload, Context::default(), move |request| {
            let recorder = recorder.clone();
            let response = response.clone();
            async move {
                *recorder.lock().unwrap() = Some(request);
                response
            }
        })
        .await
        .expect("a readable event");
        let request = seen
            .lock()
            .unwrap()
            .take()
            .expect("the function was called");
        (request, shaped)
    }

    fn json_response() -> http::Response<Bytes> {
        http::Response::builder()
            .status(201)
            .header("content-type", "application/json")
            .header("x-echo", "yes")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2; Path=/")
            .body(Bytes::from_static(br#"{"ok":true}"#))
            .unwrap()
    }

    /// Payload 2.0 as Function URLs send it (and the emulator, whose
    /// `httpMethod` must not win over `requestContext.http.method`).
    fn http_api_event() -> Value {
        json!({
            "version": "2.0",
            "routeKey": "$default",
            "httpMethod": "GET",
            "rawPath": "/orders/7",
            "rawQueryString": "tag=a&tag=b&q=x%20y",
            "cookies": ["session=s1", "theme=dark"],
            "headers": {"host": "abc.lambda-url.eu-west-1.on.aws", "x-multi": "1,2", "content-type": "text/plain"},
            "queryStringParameters": {"tag": "a,b", "q": "x y"},
            "requestContext": {
                "accountId": "123456789012", "apiId": "abc", "domainName": "abc.lambda-url.eu-west-1.on.aws",
                "domainPrefix": "abc", "requestId": "r1", "routeKey": "$default", "stage": "$default",
                "time": "03/Dec/2026:10:00:00 +0000", "timeEpoch": 1796292000000u64,
                "http": {"method": "POST", "path": "/orders/7", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "curl"}
            },
            "body": "aGVsbG8=",
            "isBase64Encoded": true
        })
    }

    #[tokio::test]
    async fn http_api_events_become_requests_and_get_v2_responses() {
        let (request, shaped) = roundtrip(http_api_event(), json_response()).await;
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri().path(), "/orders/7");
        assert_eq!(request.uri().query(), Some("tag=a&tag=b&q=x%20y"));
        assert_eq!(request.headers()["x-multi"], "1,2");
        assert_eq!(request.headers()["cookie"], "session=s1; theme=dark");
        assert_eq!(request.body().as_ref(), b"hello");

        assert_eq!(shaped["statusCode"], 201);
        assert_eq!(shaped["headers"]["x-echo"], "yes");
        assert_eq!(shaped["cookies"], json!(["a=1", "b=2; Path=/"]));
        assert!(shaped["headers"].get("set-cookie").is_none(), "{shaped}");
        assert_eq!(shaped["body"], r#"{"ok":true}"#);
        assert_eq!(shaped["isBase64Encoded"], false);
        assert!(
            shaped
                .get("multiValueHeaders")
                .is_none_or(|h| h == &json!({}))
        );
    }

    #[tokio::test]
    async fn rest_api_events_keep_multi_value_headers_and_queries() {
        let payload = json!({
            "resource": "/{proxy+}",
            "path": "/items",
            "httpMethod": "PUT",
            "headers": {"x-one": "1", "content-type": "application/json"},
            "multiValueHeaders": {"x-one": ["1"], "x-multi": ["a", "b"], "content-type": ["application/json"]},
            "queryStringParameters": {"id": "2"},
            "multiValueQueryStringParameters": {"id": ["1", "2"]},
            "pathParameters": {"proxy": "items"},
            "stageVariables": null,
            "requestContext": {
                "accountId": "123456789012", "resourceId": "r", "stage": "prod", "requestId": "q1",
                "identity": {"sourceIp": "192.0.2.1"}, "resourcePath": "/{proxy+}", "httpMethod": "PUT",
                "apiId": "api1", "path": "/prod/items"
            },
            "body": "{\"n\":1}",
            "isBase64Encoded": false
        });
        let binary = http::Response::builder()
            .status(200)
            .header("content-type", "image/png")
            .header("x-multi", "a")
            .header("x-multi", "b")
            .body(Bytes::from_static(&[0x89, b'P', b'N', b'G']))
            .unwrap();
        let (request, shaped) = roundtrip(payload, binary).await;
        assert_eq!(request.method(), http::Method::PUT);
        assert_eq!(request.uri().path(), "/prod/items");
        let query = request.uri().query().unwrap();
        assert!(query.contains("id=1") && query.contains("id=2"), "{query}");
        let multi: Vec<_> = request.headers().get_all("x-multi").iter().collect();
        assert_eq!(multi, ["a", "b"]);
        assert_eq!(request.body().as_ref(), br#"{"n":1}"#);

        assert_eq!(shaped["statusCode"], 200);
        assert_eq!(shaped["multiValueHeaders"]["x-multi"], json!(["a", "b"]));
        assert_eq!(shaped["isBase64Encoded"], true);
        assert_eq!(shaped["body"], "iVBORw==");
        assert!(shaped.get("cookies").is_none());
    }

    #[tokio::test]
    async fn alb_events_get_alb_responses() {
        let payload = json!({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg/1"}},
            "httpMethod": "GET",
            "path": "/health",
            "queryStringParameters": {"deep": "1"},
            "headers": {"host": "alb.example", "accept": "text/plain"},
            "body": "",
            "isBase64Encoded": false
        });
        let text = http::Response::builder()
            .status(503)
            .header("content-type", "text/plain; charset=utf-8")
            .body(Bytes::from_static(b"down"))
            .unwrap();
        let (request, shaped) = roundtrip(payload, text).await;
        assert_eq!(request.method(), http::Method::GET);
        assert_eq!(request.uri().path(), "/health");
        assert_eq!(request.uri().query(), Some("deep=1"));
        assert_eq!(shaped["statusCode"], 503);
        assert_eq!(shaped["statusDescription"], "503 Service Unavailable");
        assert_eq!(shaped["body"], "down");
        assert_eq!(shaped["isBase64Encoded"], false);
    }

    #[test]
    fn only_http_shapes_are_http_events() {
        assert_eq!(Origin::of(&http_api_event()), Some(Origin::HttpApi));
        assert_eq!(Origin::of(&json!({"Records": []})), None);
        assert_eq!(
            Origin::of(&json!({"detail-type": "Scheduled Event", "requestContext": {}})),
            None
        );
    }
}
