//! Generation of the `wasi:http/incoming-handler` export for a checked handler.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Item, ItemFn};

use crate::parse::Args;
use crate::validate::{self, Handler, Kind};

/// Expands `#[function(attr)] item`: the user's function, unchanged, plus the export.
pub fn function(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(attr)?;
    let func = item_fn(item)?;
    let handler = validate::handler(&func, args)?;
    let export = export(&handler);
    Ok(quote! {
        #func
        #export
    })
}

/// What to emit next to an error: the user's item, so the only error is ours and
/// not a cascade of "cannot find function" wherever the handler is used.
///
/// A `const` we refused is dropped too: rustc would otherwise add its own errors
/// about running the handler's body at compile time.
pub fn fallback(item: TokenStream) -> TokenStream {
    match syn::parse2::<ItemFn>(item.clone()) {
        Ok(mut func) if func.sig.constness.is_some() => {
            func.sig.constness = None;
            func.into_token_stream()
        }
        _ => item,
    }
}

/// Parses the annotated item, refusing anything that is not a free `fn`.
fn item_fn(item: TokenStream) -> syn::Result<ItemFn> {
    let item: Item = syn::parse2(item)?;
    // Point at the keyword and name (`struct Foo`), not the whole body.
    fn head(keyword: impl ToTokens, name: impl ToTokens) -> TokenStream {
        quote!(#keyword #name)
    }
    let (what, tokens) = match item {
        Item::Fn(func) => return Ok(func),
        Item::Struct(s) => ("a struct", head(s.struct_token, s.ident)),
        Item::Enum(e) => ("an enum", head(e.enum_token, e.ident)),
        Item::Union(u) => ("a union", head(u.union_token, u.ident)),
        Item::Trait(t) => ("a trait", head(t.trait_token, t.ident)),
        Item::Impl(i) => ("an impl block", head(i.impl_token, i.self_ty)),
        Item::Mod(m) => ("a module", head(m.mod_token, m.ident)),
        Item::Const(c) => ("a const", head(c.const_token, c.ident)),
        Item::Static(s) => ("a static", head(s.static_token, s.ident)),
        Item::Type(t) => ("a type alias", head(t.type_token, t.ident)),
        other => ("this item", other.into_token_stream()),
    };
    Err(syn::Error::new_spanned(
        tokens,
        format!(
            "`#[function]` goes on the handler `fn`, not on {what}; \
             e.g. `#[function] fn handler(req: Request) -> &'static str`"
        ),
    ))
}

/// The export: an `Export` impl handed to the SDK's `export!` on wasm32, and
/// on other targets a type check of the same call, so `cargo check` and
/// `cargo test` report a wrong parameter, return or event type without a
/// wasm build.
fn export(handler: &Handler) -> TokenStream {
    let body = body(handler);
    let declared = declared_event(handler);
    quote! {
        #declared
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __FnExport;
            impl ::fnsdk::__private::Export for __FnExport {
                fn handle(request: ::fnsdk::Request) -> ::fnsdk::Response {
                    #body
                }
            }
            ::fnsdk::__private::export!(__FnExport);
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn(::fnsdk::Request) -> ::fnsdk::Response = |request| #body;
    }
}

/// The call from the export into the user's function.
///
/// Tokens get the location of the user's types (but resolve like the macro's own
/// tokens), so a type error points at the parameter or return type the user wrote.
fn body(handler: &Handler) -> TokenStream {
    let ident = &handler.ident;
    let at_output = Span::call_site().located_at(handler.output_span);
    // The call is located at the return type too: rustc reports an unmet
    // bound on the response at the argument, which must not straddle the
    // user's tokens and the macro's.
    let call_await = |call: TokenStream| {
        if handler.is_async {
            quote_spanned!(at_output=> #call.await)
        } else {
            call
        }
    };
    match &handler.kind {
        Kind::Http { params } if params.is_empty() => {
            let call = call_await(quote_spanned!(at_output=> #ident()));
            let respond =
                quote_spanned!(at_output=> ::fnsdk::__private::Respond::respond(#call, request));
            in_executor(handler, respond)
        }
        Kind::Http { params } => {
            let last = params.len() - 1;
            let mut args = Vec::new();
            let extractions = params.iter().enumerate().map(|(index, param)| {
                let arg = quote::format_ident!("__fn_arg{index}");
                args.push(arg.clone());
                let ty = &param.ty;
                let at_param = Span::call_site().located_at(ty.span());
                let extract = if index == last {
                    quote_spanned!(at_param=>
                        <#ty as ::fnsdk::extract::FromRequest<_>>::from_request(request))
                } else {
                    quote_spanned!(at_param=>
                        <#ty as ::fnsdk::extract::FromRequestRef>::from_request_ref(&request))
                };
                quote! {
                    let #arg = match #extract {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(rejection) => {
                            return ::fnsdk::IntoResponse::into_response(rejection);
                        }
                    };
                }
            });
            let extractions: Vec<TokenStream> = extractions.collect();
            let call = call_await(quote_spanned!(at_output=> #ident(#(#args),*)));
            let respond = quote_spanned!(at_output=> ::fnsdk::__private::respond_http(#call));
            in_executor(
                handler,
                quote! {
                    #(#extractions)*
                    #respond
                },
            )
        }
        Kind::Event {
            filter,
            input_span,
            data_span,
        } => {
            let filter = match filter {
                Some(ty) => quote!(::core::option::Option::Some(#ty)),
                None => quote!(::core::option::Option::None),
            };
            // Inferred type arguments located at the user's `T` and return type:
            // rustc reports each unmet bound of `handle_event` at its own argument.
            let at_input = Span::call_site().located_at(*input_span);
            let at_data = Span::call_site().located_at(*data_span);
            let data = quote_spanned!(at_data=> _);
            let outcome = quote_spanned!(at_output=> _);
            let request = quote_spanned!(at_input=> request);
            let handler_fn = if handler.is_async {
                quote!(|event| ::fnsdk::__private::block_on(#ident(event)))
            } else {
                quote!(#ident)
            };
            quote! {
                ::fnsdk::__private::handle_event::<#data, #outcome>(#request, #filter, #handler_fn)
            }
        }
    }
}

/// The event type of `#[function(event = "...")]`, recorded in the
/// component's `fn-events` custom section (0x1e ends each record), where
/// `cargo fn build` checks it against `[package.metadata.fn] events`.
fn declared_event(handler: &Handler) -> TokenStream {
    let Kind::Event {
        filter: Some(filter),
        ..
    } = &handler.kind
    else {
        return TokenStream::new();
    };
    let mut record = filter.value().into_bytes();
    record.push(0x1e);
    let len = record.len();
    let record = syn::LitByteStr::new(&record, filter.span());
    quote! {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #[used]
            #[unsafe(link_section = "fn-events")]
            static RECORD: [u8; #len] = *#record;
        };
    }
}

/// An `async fn`'s call runs on the SDK's executor; a sync one as it is.
fn in_executor(handler: &Handler, body: TokenStream) -> TokenStream {
    if handler.is_async {
        quote!({ ::fnsdk::__private::block_on(async move { #body }) })
    } else {
        quote!({ #body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(attr: TokenStream, item: TokenStream) -> String {
        function(attr, item).unwrap().to_string()
    }

    fn error(attr: TokenStream, item: TokenStream) -> String {
        function(attr, item).err().unwrap().to_string()
    }

    #[test]
    fn http_handler_keeps_the_function_and_exports_through_respond_http() {
        let out = expand(
            quote!(),
            quote!(
                fn hello(_: Request) -> &'static str {
                    "hi"
                }
            ),
        );
        assert!(
            out.starts_with("fn hello (_ : Request) -> & 'static str { \"hi\" }"),
            "{out}"
        );
        assert!(
            out.contains("impl :: fnsdk :: __private :: Export for __FnExport"),
            "{out}"
        );
        assert!(
            out.contains(
                "< Request as :: fnsdk :: extract :: FromRequest < _ >> :: from_request (request)"
            ),
            "{out}"
        );
        assert!(
            out.contains(":: fnsdk :: __private :: respond_http (hello (__fn_arg0))"),
            "{out}"
        );
        assert!(
            out.contains(":: fnsdk :: __private :: export ! (__FnExport)"),
            "{out}"
        );
        assert!(!out.contains("handle_event"), "{out}");
    }

    #[test]
    fn every_parameter_but_the_last_borrows_the_request() {
        let out = expand(
            quote!(),
            quote!(
                fn h(Query(q): Query<Q>, m: Method, body: Json<B>) -> String {
                    todo!()
                }
            ),
        );
        assert!(
            out.contains("< Query < Q > as :: fnsdk :: extract :: FromRequestRef > :: from_request_ref (& request)"),
            "{out}"
        );
        assert!(
            out.contains("< Method as :: fnsdk :: extract :: FromRequestRef >"),
            "{out}"
        );
        assert!(
            out.contains("< Json < B > as :: fnsdk :: extract :: FromRequest < _ >> :: from_request (request)"),
            "{out}"
        );
        assert!(
            out.contains("h (__fn_arg0 , __fn_arg1 , __fn_arg2)"),
            "{out}"
        );
        assert!(!out.contains("block_on"), "{out}");
    }

    #[test]
    fn async_handlers_run_on_the_executor() {
        let out = expand(
            quote!(),
            quote!(
                async fn h(r: Request) -> String {
                    todo!()
                }
            ),
        );
        assert!(
            out.contains(":: fnsdk :: __private :: block_on (async move {"),
            "{out}"
        );
        assert!(out.contains("h (__fn_arg0) . await"), "{out}");
        let out = expand(
            quote!(),
            quote!(
                fn routes() -> Router {
                    todo!()
                }
            ),
        );
        assert!(
            out.contains(":: fnsdk :: __private :: Respond :: respond (routes () , request)"),
            "{out}"
        );
    }

    #[test]
    fn event_handler_passes_the_filter_to_handle_event() {
        let out = expand(
            quote!(event = "com.example.user.registered"),
            quote!(
                fn on(e: CloudEvent<U>) -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        let call = ":: fnsdk :: __private :: handle_event :: < _ , _ > (request , :: core :: \
                    option :: Option :: Some (\"com.example.user.registered\") , on)";
        assert_eq!(
            out.matches(call).count(),
            2,
            "wasm export and native check: {out}"
        );
        assert!(!out.contains("respond_http"), "{out}");
        // The type travels in the component for the build to check.
        assert!(
            out.contains("link_section = \"fn-events\"") && out.contains("[u8 ; 28usize]"),
            "{out}"
        );
    }

    #[test]
    fn event_handler_without_filter_passes_none() {
        let out = expand(
            quote!(),
            quote!(
                fn on(e: CloudEvent) -> R {
                    todo!()
                }
            ),
        );
        assert!(
            out.contains(
                "handle_event :: < _ , _ > (request , :: core :: option :: Option :: None , on)"
            ),
            "{out}"
        );
    }

    #[test]
    fn only_the_wasm_copy_exports() {
        let out = expand(
            quote!(),
            quote!(
                fn h(r: Request) {}
            ),
        );
        let wasm = out.find("# [cfg (target_arch = \"wasm32\")]").unwrap();
        let native = out
            .find("# [cfg (not (target_arch = \"wasm32\"))]")
            .unwrap();
        let export = out.find("export !").unwrap();
        assert!(wasm < export && export < native, "{out}");
    }

    #[test]
    fn non_functions_are_refused_by_kind() {
        let err = error(
            quote!(),
            quote!(
                struct Handler;
            ),
        );
        assert!(err.contains("not on a struct"), "{err}");
        let err = error(quote!(), quote!(impl Foo {}));
        assert!(err.contains("not on an impl block"), "{err}");
    }

    #[test]
    fn fallback_keeps_the_item_but_drops_a_refused_const() {
        let item = quote!(
            const fn h(r: Request) {}
        );
        assert!(function(quote!(), item.clone()).is_err());
        assert_eq!(
            fallback(item).to_string(),
            quote!(
                fn h(r: Request) {}
            )
            .to_string()
        );
        let item = quote!(
            unsafe fn h(r: Request) {}
        );
        assert_eq!(fallback(item.clone()).to_string(), item.to_string());
        let item = quote!(
            struct S;
        );
        assert_eq!(fallback(item.clone()).to_string(), item.to_string());
    }

    #[test]
    fn attribute_errors_come_before_signature_errors() {
        let err = error(
            quote!(route = "/"),
            quote!(
                unsafe fn h() {}
            ),
        );
        assert!(
            err.contains("unknown `#[function]` option `route`"),
            "{err}"
        );
    }
}
