//! # checkout
//!
//! An order endpoint: validate the cart, reserve stock atomically, charge
//! the card through a Stripe-style API, record the order.
//!
//! - `POST /orders` with `{"items":[{"sku":"..","quantity":N}],"email":"..","payment_token":"tok_.."}`
//!   and an optional `Idempotency-Key` header answers 201 with
//!   `Location: /orders/<id>` and `{"id","total_cents","status":"paid"}`.
//! - `GET /orders/<id>` answers the stored order, or 404.
//!
//! Key-value store `default`: the catalog (`product:<sku>` = `{"name","price_cents"}`),
//! stock (`stock:<sku>`, decimal), the reservation counters of [`stock`],
//! orders (`order:<id>`) and [`idempotency`] records.
//!
//! Config: `payment_api_key` (secret, required), `payment_api_url`
//! (default `https://api.stripe.com`).

use fnsdk::extract::Path;
use fnsdk::router::{Router, get, post};
use fnsdk::{
    Error, IntoResponse, Json, Request, Response, StatusCode, function, http::header, kv::Store,
};
use serde_json::json;

pub mod idempotency;
pub mod order;
pub mod payment;
pub mod reply;
pub mod stock;

use order::{NewOrder, Order, OrderLine, Product};
use payment::Outcome;
use reply::Reply;
use stock::{Hold, Pool};

fnsdk::config! {
    /// The payment provider's secret key.
    pub PAYMENT_API_KEY: secret "payment_api_key";
    /// Where charges go.
    pub PAYMENT_API_URL: "payment_api_url" = "https://api.stripe.com";
}

/// Routes `/orders` and `/orders/{id}`.
#[function]
fn checkout() -> Router {
    Router::new()
        .route("/orders", post(create))
        .route("/orders/{id}", get(show))
}

/// `POST /orders`. A body that is not a valid order was answered 400
/// (naming the bad field) by `Json` before this runs.
fn create(Json(order): Json<NewOrder>, req: Request) -> fnsdk::Result<Response> {
    // Everything that needs no storage first: a 400 costs nothing.
    order.validate().map_err(Error::bad_request)?;
    let key = idempotency::key(&req)?;
    // A missing key is our misconfiguration: `?` answers 500 and logs which key.
    let payment = PaymentConfig {
        api_key: PAYMENT_API_KEY.get()?,
        api_url: PAYMENT_API_URL.get()?,
    };
    let store = Store::open_default()?;

    let Some(key) = key else {
        return Ok(place(&store, &order, &payment, None)?.into_response());
    };
    let request = serde_json::to_value(&order)?;
    match idempotency::previous(&store, &key, &request)? {
        idempotency::Previous::Replay(reply) => return Ok(replayed(reply)),
        idempotency::Previous::Mismatch => return Err(idempotency::mismatch()),
        idempotency::Previous::None => {}
    }
    let mut claim = Hold::new(&store);
    if !claim.take(Pool::idempotency_claim(&key), 1, 1)? {
        // Either still running, or it finished since we looked.
        return match idempotency::previous(&store, &key, &request)? {
            idempotency::Previous::Replay(reply) => Ok(replayed(reply)),
            idempotency::Previous::Mismatch => Err(idempotency::mismatch()),
            idempotency::Previous::None => Err(idempotency::in_progress()),
        };
    }
    let reply = place(&store, &order, &payment, Some(&key))?;
    if !reply.status().is_server_error() {
        idempotency::save(&store, &key, request, reply.clone())?;
        claim.keep();
    }
    // Otherwise dropping `claim` frees the key for the client's retry.
    Ok(reply.into_response())
}

/// How to reach the payment provider.
struct PaymentConfig {
    api_key: String,
    api_url: String,
}

/// Prices the order, reserves its stock, charges, and records it. Every
/// answer after validation comes from here, as a storable [`Reply`].
fn place(
    store: &Store,
    order: &NewOrder,
    payment: &PaymentConfig,
    idempotency_key: Option<&str>,
) -> fnsdk::Result<Reply> {
    let mut lines = Vec::with_capacity(order.items.len());
    let mut total_cents: u64 = 0;
    for (i, item) in order.items.iter().enumerate() {
        let Some(product) = store.get_json::<Product>(&format!("product:{}", item.sku))? else {
            return Ok(Reply::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("items[{i}].sku: unknown sku {:?}", item.sku),
            ));
        };
        // validate() bounded the quantity to 1..=100.
        let quantity = item.quantity as u64;
        total_cents = product
            .price_cents
            .checked_mul(quantity)
            .and_then(|line| total_cents.checked_add(line))
            .ok_or_else(|| Error::internal(format!("price of {} overflows", item.sku)))?;
        lines.push(OrderLine {
            sku: item.sku.clone(),
            name: product.name,
            quantity,
            price_cents: product.price_cents,
        });
    }

    // Units taken here go back when `hold` is dropped: out of stock on a
    // later item, a declined card, an unreachable provider, any `?`.
    let mut hold = Hold::new(store);
    for line in &lines {
        let stock = store.counter(&format!("stock:{}", line.sku))?;
        if !hold.take(Pool::stock(&line.sku), line.quantity, stock)? {
            return Ok(Reply::error(
                StatusCode::CONFLICT,
                format!("out of stock: {}", line.sku),
            ));
        }
    }

    let id = order::new_id();
    let outcome = payment::charge(
        &payment.api_url,
        &payment.api_key,
        total_cents,
        &order.payment_token,
        idempotency_key.unwrap_or(&id),
    );
    let payment_id = match outcome {
        Outcome::Paid(payment_id) => payment_id,
        Outcome::Declined(message) => {
            fnsdk::info!("order {id}: payment declined: {message}");
            return Ok(Reply::error(StatusCode::PAYMENT_REQUIRED, message));
        }
        Outcome::Unavailable(detail) => {
            fnsdk::error!("order {id}: payment provider unavailable: {detail}");
            return Ok(Reply::error(
                StatusCode::BAD_GATEWAY,
                "payment provider unavailable",
            ));
        }
    };

    // Paid: the units are sold whatever happens next.
    hold.keep();
    let order = Order {
        id: id.clone(),
        items: lines,
        email: order.email.clone(),
        total_cents,
        currency: "usd".into(),
        payment_id,
        status: "paid".into(),
    };
    if let Err(err) = store.set_json(&format!("order:{id}"), &order) {
        // The card is charged: say which payment to refund or record by hand.
        fnsdk::error!(
            "order {id} is paid ({}) but could not be stored: {err}",
            order.payment_id
        );
        return Err(err.into());
    }
    fnsdk::info!("order {id} paid: {total_cents} cents");
    Ok(Reply {
        location: Some(format!("/orders/{id}")),
        ..Reply::new(
            StatusCode::CREATED,
            json!({ "id": id, "total_cents": total_cents, "status": order.status }),
        )
    })
}

/// `GET /orders/<id>`.
fn show(Path(id): Path<String>) -> fnsdk::Result<Response> {
    match Store::open_default()?.get_json::<Order>(&format!("order:{id}"))? {
        Some(order) => Ok(Json(order).into_response()),
        None => Err(Error::not_found(format!("no order {id}"))),
    }
}

/// A stored reply, marked as a replay.
fn replayed(reply: Reply) -> Response {
    let mut resp = reply.into_response();
    resp.headers_mut().insert(
        "idempotent-replayed",
        header::HeaderValue::from_static("true"),
    );
    resp
}
