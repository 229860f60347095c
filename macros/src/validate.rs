//! Checks a handler's signature and classifies it as HTTP or event handler.

use proc_macro2::Span;
use quote::quote;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, Ident, ItemFn, LitStr, PathArguments, ReturnType, Signature, Type,
};

use crate::parse::Args;

/// A handler that passed every check.
pub struct Handler {
    /// The user's function, called by this name from the export.
    pub ident: Ident,
    /// What the handler receives.
    pub kind: Kind,
    /// `async fn`: the export runs it on the SDK's executor.
    pub is_async: bool,
    /// Where the return type was written (errors about the result point here).
    pub output_span: Span,
}

/// What a handler receives.
#[derive(Debug)]
pub enum Kind {
    /// `fn(E1, E2, ..) -> impl IntoResponse`, each `E` an extractor, the
    /// last possibly `Request`; with no parameter, the result may also be a
    /// `Router`.
    Http {
        /// The parameter types, in order.
        params: Vec<Param>,
    },
    /// `fn(CloudEvent<T>) -> Result<(), E>`, optionally limited to one event type.
    Event {
        /// The `event = "..."` option.
        filter: Option<LitStr>,
        /// Where the parameter type was written.
        input_span: Span,
        /// Where `T` of `CloudEvent<T>` was written (the parameter type when
        /// there is no `T`).
        data_span: Span,
    },
}

/// One parameter of an HTTP handler.
#[derive(Debug)]
pub struct Param {
    /// Its type, as written (it resolves in the user's scope).
    pub ty: Type,
}

/// Collects every independent problem so the user sees them all at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn spanned(&mut self, tokens: impl quote::ToTokens, message: &str) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

const PARAM_HELP: &str = "an HTTP handler takes extractors (`Json<T>`, `Query<T>`, \
     `Path<T>`, `HeaderMap`, ..., `fnsdk::Request` last), an event handler exactly one \
     `event: fnsdk::CloudEvent<T>`";

/// Checks `func` against the shapes `#[function]` accepts.
pub fn handler(func: &ItemFn, args: Args) -> syn::Result<Handler> {
    let sig = &func.sig;
    let mut errors = Errors::default();
    check_qualifiers(sig, &mut errors);

    let input = match parameters(sig) {
        Ok(input) => Some(input),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let kind = match (input, args.event) {
        (Some(Params::Http(_)), Some(event)) => {
            errors.spanned(
                event.key,
                "`event = \"...\"` only applies to event handlers, which take \
                 `fnsdk::CloudEvent<T>`: remove it, or change the parameter to a `CloudEvent`",
            );
            None
        }
        (Some(Params::Http(params)), None) => Some(Kind::Http { params }),
        (Some(Params::Event(input_span)), event) => {
            if sig.output == ReturnType::Default {
                errors.spanned(
                    sig,
                    "an event handler must return `Result<(), E>` so failures are retried: \
                     add `-> Result<(), fnsdk::Error>` and return `Ok(())` when done",
                );
            }
            Some(Kind::Event {
                filter: event.map(|event| event.value),
                input_span,
                data_span: data_span(sig).unwrap_or(input_span),
            })
        }
        (None, _) => None,
    };
    errors.finish()?;

    let Some(kind) = kind else {
        unreachable!("every path that leaves `kind` empty records an error")
    };
    let output_span = match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    };
    Ok(Handler {
        ident: sig.ident.clone(),
        kind,
        is_async: sig.asyncness.is_some(),
        output_span,
    })
}

/// Refuses `const`, `unsafe`, `extern`, generics and `where` clauses.
fn check_qualifiers(sig: &Signature, errors: &mut Errors) {
    if let Some(token) = &sig.constness {
        errors.spanned(
            token,
            "`#[function]` handlers cannot be `const fn`: remove `const`",
        );
    }
    if let Some(token) = &sig.unsafety {
        errors.spanned(
            token,
            "`#[function]` handlers cannot be `unsafe fn`, since the host calls them with \
             no way to uphold a safety contract: remove `unsafe` and use `unsafe` blocks inside",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi,
            "`#[function]` handlers are plain Rust functions: remove the `extern` ABI \
             (the macro generates the WASI export)",
        );
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            "`#[function]` handlers cannot be generic: the export needs one concrete \
             signature; write the concrete types, e.g. `CloudEvent<MyEvent>`",
        );
    }
    if let Some(clause) = &sig.generics.where_clause {
        errors.spanned(
            clause,
            "`#[function]` handlers cannot have a `where` clause: remove it and use \
             concrete types",
        );
    }
}

/// What the parameters say the handler is.
enum Params {
    Http(Vec<Param>),
    /// The one `CloudEvent` parameter, by the span of its type.
    Event(Span),
}

/// What one parameter's type names.
#[derive(Debug, PartialEq, Eq)]
enum ParamKind {
    Request,
    Event,
    Other,
}

/// Classifies the parameters: one `CloudEvent` (an event handler) or
/// extractors with `Request`, if any, last (an HTTP handler).
fn parameters(sig: &Signature) -> syn::Result<Params> {
    if let Some(receiver) = sig.receiver() {
        return Err(syn::Error::new_spanned(
            receiver,
            "`#[function]` goes on a free function, not a method: remove `self` and move \
             the handler out of the `impl` block",
        ));
    }
    let typed: Vec<&syn::PatType> = sig
        .inputs
        .iter()
        .map(|arg| match arg {
            FnArg::Typed(param) => param,
            FnArg::Receiver(_) => unreachable!("receivers were handled above"),
        })
        .collect();
    let mut errors = Errors::default();
    for param in &typed {
        if let Some(error) = type_error(&param.ty) {
            errors.push(error);
        }
    }
    errors.finish()?;

    if let Some(event) = typed.iter().find(|p| classify(&p.ty) == ParamKind::Event) {
        if typed.len() > 1 {
            let others: Vec<_> = typed
                .iter()
                .filter(|p| !std::ptr::eq(**p, *event))
                .collect();
            return Err(syn::Error::new_spanned(
                quote!(#(#others),*),
                "an event handler takes exactly one parameter, `event: fnsdk::CloudEvent<T>`; \
                 everything else comes from the event itself or from `fnsdk::config`",
            ));
        }
        return Ok(Params::Event(event.ty.span()));
    }
    let mut errors = Errors::default();
    let last = typed.len().saturating_sub(1);
    for (index, param) in typed.iter().enumerate() {
        if index != last && classify(&param.ty) == ParamKind::Request {
            errors.spanned(
                &param.ty,
                "`Request` takes the whole request, so it must be the handler's last \
                 parameter: move it after the extractors",
            );
        }
    }
    errors.finish()?;
    Ok(Params::Http(
        typed
            .iter()
            .map(|p| Param {
                ty: (*p.ty).clone(),
            })
            .collect(),
    ))
}

/// The span of `T` in a `CloudEvent<T>` parameter.
fn data_span(sig: &Signature) -> Option<Span> {
    let Some(FnArg::Typed(param)) = sig.inputs.first() else {
        return None;
    };
    let Type::Path(path) = &*param.ty else {
        return None;
    };
    let PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty.span()),
        _ => None,
    })
}

/// Classifies a parameter type by its last path segment.
fn classify(ty: &Type) -> ParamKind {
    match ty {
        Type::Path(path) if path.qself.is_none() => match path.path.segments.last() {
            Some(last) if last.ident == "Request" => ParamKind::Request,
            Some(last) if last.ident == "CloudEvent" => ParamKind::Event,
            _ => ParamKind::Other,
        },
        Type::Paren(inner) => classify(&inner.elem),
        Type::Group(inner) => classify(&inner.elem),
        _ => ParamKind::Other,
    }
}

/// Parameter types no extractor can be: references and `impl Trait`.
fn type_error(ty: &Type) -> Option<syn::Error> {
    match ty {
        Type::Reference(reference) => Some(syn::Error::new_spanned(
            ty,
            if classify(&reference.elem) == ParamKind::Other {
                "handler parameters are taken by value: remove the `&` (extractors own \
                 what they take from the request)"
            } else {
                "the handler takes its input by value: remove the `&` (and `mut`)"
            },
        )),
        Type::ImplTrait(_) => Some(syn::Error::new_spanned(
            ty,
            format!("a handler parameter needs a concrete type, not `impl Trait`; {PARAM_HELP}"),
        )),
        Type::Paren(inner) => type_error(&inner.elem),
        Type::Group(inner) => type_error(&inner.elem),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn check(func: ItemFn) -> syn::Result<Handler> {
        handler(&func, Args::default())
    }

    fn params(func: ItemFn) -> usize {
        match check(func).map(|h| h.kind) {
            Ok(Kind::Http { params }) => params.len(),
            Ok(kind) => panic!("not an HTTP handler: {kind:?}"),
            Err(e) => panic!("refused: {e}"),
        }
    }

    fn error(func: ItemFn) -> String {
        match check(func) {
            Ok(handler) => panic!("accepted, as {:?}", handler.kind),
            Err(err) => err
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn extractor_parameters_are_http_handlers() {
        assert_eq!(
            params(parse_quote!(
                fn h(req: Request) -> Response {
                    todo!()
                }
            )),
            1
        );
        assert_eq!(
            params(parse_quote!(
                fn h(mut r: ::http::Request<Bytes>) -> &'static str {
                    ""
                }
            )),
            1
        );
        assert_eq!(
            params(parse_quote!(
                fn h(Query(q): Query<Q>, Json(b): Json<B>, r: fnsdk::Request) {}
            )),
            3
        );
        assert_eq!(
            params(parse_quote!(
                fn routes() -> Router {
                    todo!()
                }
            )),
            0
        );
        let handler = check(parse_quote!(
            async fn h(s: String) {}
        ))
        .unwrap();
        assert!(handler.is_async);
        assert_eq!(handler.ident, "h");
    }

    #[test]
    fn cloud_event_parameters_are_event_handlers() {
        let func: ItemFn = parse_quote!(
            fn on(e: CloudEvent<User>) -> Result<(), Error> {
                Ok(())
            }
        );
        assert!(matches!(
            check(func).unwrap().kind,
            Kind::Event { filter: None, .. }
        ));

        let args: Args = parse_quote!(event = "com.example.a");
        let func: ItemFn = parse_quote!(
            fn on(_: fnsdk::CloudEvent) -> R {
                todo!()
            }
        );
        let Kind::Event {
            filter: Some(filter),
            ..
        } = handler(&func, args).unwrap().kind
        else {
            panic!("expected an event handler with a filter");
        };
        assert_eq!(filter.value(), "com.example.a");
    }

    #[test]
    fn event_option_is_refused_on_http_handlers() {
        let args: Args = parse_quote!(event = "com.example.a");
        let func: ItemFn = parse_quote!(
            fn h(req: Request) -> Response {
                todo!()
            }
        );
        let err = handler(&func, args).err().unwrap().to_string();
        assert!(err.contains("only applies to event handlers"), "{err}");
    }

    #[test]
    fn event_handlers_need_a_return_type_and_one_parameter() {
        let err = error(parse_quote!(
            fn on(e: CloudEvent<User>) {}
        ));
        assert!(err.contains("must return `Result<(), E>`"), "{err}");
        let err = error(parse_quote!(
            fn on(e: CloudEvent<User>, h: HeaderMap) -> Result<(), E> {}
        ));
        assert!(err.contains("exactly one parameter"), "{err}");
    }

    #[test]
    fn wrong_parameters_are_refused() {
        assert!(
            error(parse_quote!(
                fn h(a: Request, b: Json<u8>) {}
            ))
            .contains("must be the handler's last parameter")
        );
        assert!(
            error(parse_quote!(
                fn h(&self, r: Request) {}
            ))
            .contains("not a method")
        );
        assert!(
            error(parse_quote!(
                fn h(r: &Request) {}
            ))
            .contains("by value: remove the `&`")
        );
        assert!(
            error(parse_quote!(
                fn h(s: &str) {}
            ))
            .contains("taken by value")
        );
        assert!(
            error(parse_quote!(
                fn h(r: impl Into<Request>) {}
            ))
            .contains("not `impl Trait`")
        );
    }

    #[test]
    fn qualifiers_and_generics_are_reported_together() {
        let err = error(parse_quote!(
            unsafe fn h<T>(r: Request)
            where
                T: Clone,
            {
            }
        ));
        for needle in ["remove `unsafe`", "cannot be generic", "`where` clause"] {
            assert!(err.contains(needle), "missing {needle:?} in {err}");
        }
        assert!(
            error(parse_quote!(
                const fn h(r: Request) {}
            ))
            .contains("remove `const`")
        );
        assert!(
            error(parse_quote!(
                extern "C" fn h(r: Request) {}
            ))
            .contains("`extern` ABI")
        );
    }
}
