//! Parsing of the options inside `#[function(...)]`.

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Token};

/// Keywords accepted inside `#[function(...)]`.
pub mod kw {
    syn::custom_keyword!(event);
}

/// The options of one `#[function(...)]` attribute.
#[derive(Default)]
pub struct Args {
    /// `event = "com.example.type"`, if given.
    pub event: Option<EventFilter>,
}

/// `event = "<type>"`: only CloudEvents of this type reach the handler.
pub struct EventFilter {
    /// The `event` key itself, kept to point errors at it.
    pub key: kw::event,
    /// The CloudEvents `type` to accept.
    pub value: LitStr,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::event) {
                let key: kw::event = input.parse()?;
                input.parse::<Token![=]>()?;
                let value = event_value(input)?;
                if args.event.is_some() {
                    return Err(syn::Error::new_spanned(
                        key,
                        "`event` is given twice: keep a single `event = \"...\"`",
                    ));
                }
                args.event = Some(EventFilter { key, value });
            } else if input.peek(Ident::peek_any) {
                let key = Ident::parse_any(input)?;
                return Err(syn::Error::new_spanned(
                    &key,
                    format!(
                        "unknown `#[function]` option `{key}`: the only option is \
                         `event = \"<CloudEvents type>\"`, for event handlers"
                    ),
                ));
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// Parses the value after `event =`, which must be a non-empty string literal.
fn event_value(input: ParseStream<'_>) -> syn::Result<LitStr> {
    let expr: Expr = input.parse()?;
    let Expr::Lit(ExprLit {
        lit: Lit::Str(value),
        ..
    }) = expr
    else {
        return Err(syn::Error::new_spanned(
            expr,
            "`event` takes a string literal, e.g. `event = \"com.example.user.registered\"`",
        ));
    };
    if value.value().trim().is_empty() {
        return Err(syn::Error::new_spanned(
            value,
            "`event` needs a CloudEvents type, e.g. `event = \"com.example.user.registered\"`; \
             leave `event` out to accept every type",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
        syn::parse2(tokens)
    }

    #[test]
    fn empty_attribute_has_no_filter() {
        assert!(parse(quote!()).unwrap().event.is_none());
    }

    #[test]
    fn event_filter_is_read_with_optional_trailing_comma() {
        let args = parse(quote!(event = "com.example.user.registered")).unwrap();
        assert_eq!(
            args.event.unwrap().value.value(),
            "com.example.user.registered"
        );
        let args = parse(quote!(event = "a.b",)).unwrap();
        assert_eq!(args.event.unwrap().value.value(), "a.b");
    }

    #[test]
    fn unknown_key_names_the_valid_one() {
        let err = parse(quote!(route = "/x")).err().unwrap().to_string();
        assert!(
            err.contains("unknown `#[function]` option `route`"),
            "{err}"
        );
        assert!(err.contains("event = "), "{err}");
    }

    #[test]
    fn keyword_as_key_is_an_unknown_option_too() {
        let err = parse(quote!(type = "x")).err().unwrap().to_string();
        assert!(err.contains("option `type`"), "{err}");
    }

    #[test]
    fn repeated_key_is_refused() {
        let err = parse(quote!(event = "a", event = "b")).err().unwrap();
        assert!(err.to_string().contains("given twice"), "{err}");
    }

    #[test]
    fn non_string_and_empty_values_are_refused() {
        let err = parse(quote!(event = 5)).err().unwrap().to_string();
        assert!(err.contains("takes a string literal"), "{err}");
        let err = parse(quote!(event = com.example))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("takes a string literal"), "{err}");
        let err = parse(quote!(event = " ")).err().unwrap().to_string();
        assert!(err.contains("needs a CloudEvents type"), "{err}");
    }

    #[test]
    fn missing_comma_between_options_is_a_syntax_error() {
        assert!(parse(quote!(event = "a" event = "b")).is_err());
    }
}
