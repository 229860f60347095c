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
    /// Where the parameter type was written (errors about the request point here).
    pub input_span: Span,
    /// Where the event data type `T` of `CloudEvent<T>` was written (the
    /// parameter type when there is no `T`, and for HTTP handlers).
    pub data_span: Span,
    /// Where the return type was written (errors about the result point here).
    pub output_span: Span,
}

/// What a handler receives.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// `fn(Request) -> impl IntoResponse`.
    Http,
    /// `fn(CloudEvent<T>) -> Result<(), E>`, optionally limited to one event type.
    Event {
        /// The `event = "..."` option.
        filter: Option<LitStr>,
    },
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

const PARAM_HELP: &str = "a `#[function]` handler takes exactly one parameter: \
     `req: fnsdk::Request` for HTTP, or `event: fnsdk::CloudEvent<T>` for events";

/// Checks `func` against the shapes `#[function]` accepts.
pub fn handler(func: &ItemFn, args: Args) -> syn::Result<Handler> {
    let sig = &func.sig;
    let mut errors = Errors::default();
    check_qualifiers(sig, &mut errors);

    let input = match parameter(sig) {
        Ok(input) => Some(input),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let kind = match (input.as_ref().map(|(kind, _)| kind), args.event) {
        (Some(ParamKind::Http), Some(event)) => {
            errors.spanned(
                event.key,
                "`event = \"...\"` only applies to event handlers, which take \
                 `fnsdk::CloudEvent<T>`: remove it, or change the parameter to a `CloudEvent`",
            );
            None
        }
        (Some(ParamKind::Http), None) => Some(Kind::Http),
        (Some(ParamKind::Event), event) => {
            if sig.output == ReturnType::Default {
                errors.spanned(
                    sig,
                    "an event handler must return `Result<(), E>` so failures are retried: \
                     add `-> Result<(), fnsdk::Error>` and return `Ok(())` when done",
                );
            }
            Some(Kind::Event {
                filter: event.map(|event| event.value),
            })
        }
        (None, _) => None,
    };
    errors.finish()?;

    let (Some(kind), Some((_, input_span))) = (kind, input) else {
        unreachable!("every path that leaves `kind` or `input` empty records an error")
    };
    let output_span = match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    };
    Ok(Handler {
        ident: sig.ident.clone(),
        kind,
        input_span,
        data_span: data_span(sig).unwrap_or(input_span),
        output_span,
    })
}

/// Refuses `async`, `const`, `unsafe`, `extern`, generics and `where` clauses.
fn check_qualifiers(sig: &Signature, errors: &mut Errors) {
    if let Some(token) = &sig.asyncness {
        errors.spanned(
            token,
            "`#[function]` handlers are synchronous: remove `async` (WASI 0.2 calls the \
             handler once per request, on its own instance; `fnsdk::outbound::send` and \
             the other SDK calls block until they are done)",
        );
    }
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

/// What the single parameter is.
#[derive(Debug, PartialEq, Eq)]
enum ParamKind {
    Http,
    Event,
}

/// Finds the single parameter and classifies it by its type.
fn parameter(sig: &Signature) -> syn::Result<(ParamKind, Span)> {
    if let Some(receiver) = sig.receiver() {
        return Err(syn::Error::new_spanned(
            receiver,
            "`#[function]` goes on a free function, not a method: remove `self` and move \
             the handler out of the `impl` block",
        ));
    }
    let mut inputs = sig.inputs.iter();
    let Some(first) = inputs.next() else {
        return Err(syn::Error::new(
            sig.paren_token.span.join(),
            format!("the handler has no parameter; {PARAM_HELP}"),
        ));
    };
    if sig.inputs.len() > 1 {
        let extra: Vec<_> = inputs.collect();
        return Err(syn::Error::new_spanned(
            quote!(#(#extra),*),
            format!(
                "too many parameters; {PARAM_HELP}. Everything else comes from the request \
                 itself (headers, query, body) or from `fnsdk::config`"
            ),
        ));
    }
    let FnArg::Typed(first) = first else {
        unreachable!("receivers were handled above")
    };
    match classify(&first.ty) {
        Some(kind) => Ok((kind, first.ty.span())),
        None => Err(type_error(&first.ty)),
    }
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
fn classify(ty: &Type) -> Option<ParamKind> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            if last.ident == "Request" {
                Some(ParamKind::Http)
            } else if last.ident == "CloudEvent" {
                Some(ParamKind::Event)
            } else {
                None
            }
        }
        Type::Paren(inner) => classify(&inner.elem),
        Type::Group(inner) => classify(&inner.elem),
        _ => None,
    }
}

/// The error for a parameter type that is neither `Request` nor `CloudEvent<T>`.
fn type_error(ty: &Type) -> syn::Error {
    if let Type::Reference(reference) = ty
        && classify(&reference.elem).is_some()
    {
        return syn::Error::new_spanned(
            ty,
            "the handler takes its input by value: remove the `&` (and `mut`)",
        );
    }
    syn::Error::new_spanned(ty, format!("unsupported parameter type; {PARAM_HELP}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn check(func: ItemFn) -> syn::Result<Handler> {
        handler(&func, Args::default())
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
    fn request_parameters_are_http_handlers() {
        for func in [
            parse_quote!(
                fn h(req: Request) -> Response {
                    todo!()
                }
            ),
            parse_quote!(
                fn h(_: fnsdk::Request) {}
            ),
            parse_quote!(
                fn h(mut r: ::http::Request<Bytes>) -> &'static str {
                    ""
                }
            ),
        ] {
            let handler = check(func).unwrap();
            assert_eq!(handler.kind, Kind::Http);
            assert_eq!(handler.ident, "h");
        }
    }

    #[test]
    fn cloud_event_parameters_are_event_handlers() {
        let func: ItemFn = parse_quote!(
            fn on(e: CloudEvent<User>) -> Result<(), Error> {
                Ok(())
            }
        );
        assert_eq!(check(func).unwrap().kind, Kind::Event { filter: None });

        let args: Args = parse_quote!(event = "com.example.a");
        let func: ItemFn = parse_quote!(
            fn on(_: fnsdk::CloudEvent) -> R {
                todo!()
            }
        );
        let Kind::Event {
            filter: Some(filter),
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
    fn event_handlers_need_a_return_type() {
        let err = error(parse_quote!(
            fn on(e: CloudEvent<User>) {}
        ));
        assert!(err.contains("must return `Result<(), E>`"), "{err}");
    }

    #[test]
    fn wrong_parameter_counts_and_types_are_refused() {
        assert!(
            error(parse_quote!(
                fn h() {}
            ))
            .contains("no parameter")
        );
        assert!(
            error(parse_quote!(
                fn h(a: Request, b: u8) {}
            ))
            .contains("too many parameters")
        );
        assert!(
            error(parse_quote!(
                fn h(&self, r: Request) {}
            ))
            .contains("not a method")
        );
        assert!(
            error(parse_quote!(
                fn h(s: String) {}
            ))
            .contains("unsupported parameter type")
        );
        assert!(
            error(parse_quote!(
                fn h(r: &Request) {}
            ))
            .contains("by value: remove the `&`")
        );
        assert!(
            error(parse_quote!(
                fn h(r: impl Into<Request>) {}
            ))
            .contains("unsupported")
        );
    }

    #[test]
    fn qualifiers_and_generics_are_reported_together() {
        let err = error(parse_quote!(
            async unsafe fn h<T>(r: Request)
            where
                T: Clone,
            {
            }
        ));
        for needle in [
            "remove `async`",
            "remove `unsafe`",
            "cannot be generic",
            "`where` clause",
        ] {
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
