//! The schedule of `[package.metadata.fn]` (five-field cron, names and
//! `@daily`-style shorthands, UTC) in the syntax of each cloud's scheduler:
//!
//! - [`eventbridge`]: AWS EventBridge, `cron(min hour day-of-month month
//!   day-of-week year)`, days of the week 1-7 from Sunday, `?` in one of the
//!   day fields, no steps in the day of the week;
//! - [`ncrontab`]: Azure Functions timers, six fields with seconds first,
//!   days of the week 0-6, no `L`, `W` or `#`;
//! - [`cloudflare`]: Workers cron triggers, five fields, days of the week
//!   written as names (Cloudflare numbers them 1-7), no `L` or `#` there.
//!
//! What a scheduler cannot express is refused with the reason, never
//! approximated. Restricting both the day of the month and the day of the
//! week (cron runs on either) is refused everywhere: EventBridge cannot say
//! it, and NCRONTAB reads it differently.

const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The five fields of `cron`, shorthands expanded, names upper-cased.
fn fields(cron: &str) -> Result<[String; 5], String> {
    let cron = cron.trim();
    let expanded = match cron.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => cron,
    };
    let fields: Vec<String> = expanded
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    fields.try_into().map_err(|f: Vec<String>| {
        format!(
            "expected 5 cron fields or a shorthand such as @daily, found {}",
            f.len()
        )
    })
}

fn is_any(field: &str) -> bool {
    field == "*" || field == "?"
}

/// Refuses a schedule that restricts both day fields.
fn check_days(dom: &str, dow: &str) -> Result<(), String> {
    if !is_any(dom) && !is_any(dow) {
        return Err(format!(
            "it restricts both the day of the month ({dom}) and the day of the week ({dow}); cron runs on either, which this scheduler cannot express: use two functions or restrict one day field"
        ));
    }
    Ok(())
}

/// A day of the week, 0-6 from Sunday (7 is Sunday too).
fn day(value: &str) -> Result<u32, String> {
    if let Some(i) = DAYS.iter().position(|d| *d == value) {
        return Ok(i as u32);
    }
    match value.parse::<u32>() {
        Ok(n) if n <= 7 => Ok(n % 7),
        _ => Err(format!("{value:?} is not a day of the week")),
    }
}

/// The days (0-6) of one day-of-week list item made of numbers, names,
/// ranges and steps; `None` for items with `L` or `#`.
fn days_of(item: &str) -> Result<Option<Vec<u32>>, String> {
    if item.contains('L') || item.contains('#') {
        return Ok(None);
    }
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => {
            let step: u32 = step
                .parse()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| format!("step {step:?} is not a positive number"))?;
            (range, step)
        }
        None => (item, 1),
    };
    // Ranges run on the 0-7 scale so that 5-7 means Friday to Sunday.
    let number = |v: &str| -> Result<u32, String> { if v == "7" { Ok(7) } else { day(v) } };
    let (start, end) = match range.split_once('-') {
        _ if range == "*" => (0, 6),
        Some((a, b)) => (number(a)?, number(b)?),
        None if step > 1 => (number(range)?, 6),
        None => (number(range)?, number(range)?),
    };
    if start > end {
        return Err(format!("range {range:?} runs backwards"));
    }
    Ok(Some(
        (start..=end)
            .step_by(step as usize)
            .map(|d| d % 7)
            .collect(),
    ))
}

/// Runs of consecutive days as `A-B` ranges or single days, by `name`.
fn day_list(days: &[u32], name: impl Fn(u32) -> String) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let mut j = i;
        while j + 1 < days.len() && days[j + 1] == days[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}-{}", name(days[i]), name(days[j]))
        } else {
            name(days[i])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// A day-of-week field made only of days, ranges and steps, as a list of
/// days written by `name` (`*` stays `*`); an item with `L` or `#` is
/// refused with `why(item)`.
fn plain_days(
    dow: &str,
    why: impl Fn(&str) -> String,
    name: impl Fn(u32) -> String,
) -> Result<String, String> {
    if is_any(dow) {
        return Ok("*".to_owned());
    }
    let mut days = Vec::new();
    for item in dow.split(',') {
        days.extend(days_of(item)?.ok_or_else(|| why(item))?);
    }
    days.sort_unstable();
    days.dedup();
    Ok(day_list(&days, name))
}

/// `cron` as an EventBridge schedule expression, `cron(...)` with six
/// fields (the year `*`).
pub fn eventbridge(cron: &str) -> Result<String, String> {
    let [minute, hour, dom, month, dow] = fields(cron)?;
    check_days(&dom, &dow)?;
    let (dom, dow) = if is_any(&dow) {
        (
            if dom == "?" { "*".to_owned() } else { dom },
            "?".to_owned(),
        )
    } else {
        let mut days = Vec::new();
        let mut nth = Vec::new();
        for item in dow.split(',') {
            match days_of(item)? {
                Some(d) => days.extend(d),
                None => match item.split_once('#') {
                    Some((d, k)) => nth.push(format!("{}#{k}", day(d)? + 1)),
                    None => {
                        return Err(format!(
                            "day of the week {item:?}: EventBridge has no \"last weekday of the month\"; use a day-of-month schedule"
                        ));
                    }
                },
            }
        }
        days.sort_unstable();
        days.dedup();
        let mut items = vec![day_list(&days, |d| DAYS[d as usize].to_owned())];
        items.retain(|i| !i.is_empty());
        items.extend(nth);
        ("?".to_owned(), items.join(","))
    };
    Ok(format!("cron({minute} {hour} {dom} {month} {dow} *)"))
}

/// `cron` as an Azure Functions NCRONTAB expression (seconds first).
pub fn ncrontab(cron: &str) -> Result<String, String> {
    let [minute, hour, dom, month, dow] = fields(cron)?;
    check_days(&dom, &dow)?;
    if dom.contains('L') || dom.contains('W') {
        return Err(format!(
            "day of the month {dom:?}: Azure's NCRONTAB has no L (last day) or W (nearest weekday)"
        ));
    }
    let dom = if dom == "?" { "*".to_owned() } else { dom };
    let dow = plain_days(
        &dow,
        |item| {
            format!(
                "day of the week {item:?}: Azure's NCRONTAB has no L (last) or # (n-th weekday of the month)"
            )
        },
        |d| d.to_string(),
    )?;
    Ok(format!("0 {minute} {hour} {dom} {month} {dow}"))
}

/// `cron` as a Cloudflare Workers cron trigger: five fields, the day of
/// the week by name (Cloudflare numbers weekdays 1-7, not 0-6 from
/// Sunday, so numbers would shift a day).
pub fn cloudflare(cron: &str) -> Result<String, String> {
    let [minute, hour, dom, month, dow] = fields(cron)?;
    check_days(&dom, &dow)?;
    let dom = if dom == "?" { "*".to_owned() } else { dom };
    let dow = plain_days(
        &dow,
        |item| {
            format!(
                "day of the week {item:?}: Cloudflare numbers weekdays differently, so L (last) and # (n-th weekday) are not carried over; use a day-of-month schedule"
            )
        },
        |d| DAYS[d as usize].to_owned(),
    )?;
    Ok(format!("{minute} {hour} {dom} {month} {dow}"))
}

/// `cron` as a Netlify scheduled function's schedule: standard cron, kept
/// as written, without `L`, `W` or `#`.
pub fn netlify(cron: &str) -> Result<String, String> {
    let [_, _, dom, _, dow] = fields(cron)?;
    if dom.contains('L') || dom.contains('W') {
        return Err(format!(
            "day of the month {dom:?}: Netlify's cron has no L (last day) or W (nearest weekday)"
        ));
    }
    plain_days(
        &dow,
        |item| {
            format!("day of the week {item:?}: Netlify's cron has no L (last) or # (n-th weekday)")
        },
        |d| d.to_string(),
    )?;
    Ok(cron.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eventbridge_has_a_question_mark_day_and_a_year() {
        for (cron, expected) in [
            ("*/5 * * * *", "cron(*/5 * * * ? *)"),
            ("0 9 * * MON-FRI", "cron(0 9 ? * MON-FRI *)"),
            ("0 9 * * 1-5", "cron(0 9 ? * MON-FRI *)"),
            ("30 8 * * sun,7", "cron(30 8 ? * SUN *)"),
            ("0 0 * * 5-7", "cron(0 0 ? * SUN,FRI-SAT *)"),
            ("0 0 * * */2", "cron(0 0 ? * SUN,TUE,THU,SAT *)"),
            ("0 0 * * 1-5/2", "cron(0 0 ? * MON,WED,FRI *)"),
            ("0 0 ? * 1#2", "cron(0 0 ? * 2#2 *)"),
            ("0,30 9-17/2 1 1-12 *", "cron(0,30 9-17/2 1 1-12 ? *)"),
            ("0 0 1 jan,jul *", "cron(0 0 1 JAN,JUL ? *)"),
            ("0 0 L * *", "cron(0 0 L * ? *)"),
            ("0 12 15W * *", "cron(0 12 15W * ? *)"),
            ("@daily", "cron(0 0 * * ? *)"),
            ("@Weekly", "cron(0 0 ? * SUN *)"),
            ("@yearly", "cron(0 0 1 1 ? *)"),
            ("@hourly", "cron(0 * * * ? *)"),
        ] {
            assert_eq!(eventbridge(cron).as_deref(), Ok(expected), "{cron}");
        }
    }

    #[test]
    fn ncrontab_has_seconds_and_sunday_zero() {
        for (cron, expected) in [
            ("*/5 * * * *", "0 */5 * * * *"),
            ("0 9 * * MON-FRI", "0 0 9 * * 1-5"),
            ("30 8 * * sun,7", "0 30 8 * * 0"),
            ("0 0 * * 5-7", "0 0 0 * * 0,5-6"),
            ("0 0 * * */2", "0 0 0 * * 0,2,4,6"),
            ("0,30 9-17/2 1 1-12 *", "0 0,30 9-17/2 1 1-12 *"),
            ("0 0 1 JAN,jul *", "0 0 0 1 JAN,JUL *"),
            ("0 0 ? * 1", "0 0 0 * * 1"),
            ("@monthly", "0 0 0 1 * *"),
            ("@weekly", "0 0 0 * * 0"),
        ] {
            assert_eq!(ncrontab(cron).as_deref(), Ok(expected), "{cron}");
        }
    }

    #[test]
    fn cloudflare_names_the_days() {
        for (cron, expected) in [
            ("*/5 * * * *", "*/5 * * * *"),
            ("0 9 * * 1-5", "0 9 * * MON-FRI"),
            ("30 8 * * sun,7", "30 8 * * SUN"),
            ("0 0 * * 5-7", "0 0 * * SUN,FRI-SAT"),
            ("0 0 L * *", "0 0 L * *"),
            ("@weekly", "0 0 * * SUN"),
        ] {
            assert_eq!(cloudflare(cron).as_deref(), Ok(expected), "{cron}");
        }
        let err = cloudflare("0 0 * * 5L").unwrap_err();
        assert!(err.contains("L (last)"), "{err}");
        assert!(cloudflare("0 0 1 * MON").is_err());
    }

    #[test]
    fn netlify_keeps_standard_cron_and_refuses_l_w_and_hash() {
        // Month and day names hold an L or a W without being L or W.
        for cron in ["0 0 1 JUL *", "0 9 * * WED", "@Weekly", "*/5 * * * 1-5"] {
            assert_eq!(netlify(cron).as_deref(), Ok(cron), "{cron}");
        }
        assert!(
            netlify("0 0 L * *")
                .unwrap_err()
                .contains("no L (last day)")
        );
        assert!(
            netlify("0 0 15W * *")
                .unwrap_err()
                .contains("W (nearest weekday)")
        );
        assert!(netlify("0 0 * * 5L").unwrap_err().contains("no L (last)"));
        assert!(netlify("0 0 * * 1#2").unwrap_err().contains("# (n-th"));
    }

    #[test]
    fn what_a_scheduler_cannot_say_is_refused_with_the_reason() {
        let both = "0 0 1 * MON";
        for convert in [eventbridge, ncrontab] {
            let err = convert(both).unwrap_err();
            assert!(err.contains("both the day of the month"), "{err}");
        }
        let err = eventbridge("0 0 * * 5L").unwrap_err();
        assert!(err.contains("last weekday"), "{err}");
        let err = ncrontab("0 0 * * 5L").unwrap_err();
        assert!(err.contains("no L (last)"), "{err}");
        let err = ncrontab("0 0 ? * 1#2").unwrap_err();
        assert!(err.contains("# (n-th"), "{err}");
        let err = ncrontab("0 0 L * *").unwrap_err();
        assert!(err.contains("no L (last day)"), "{err}");
        let err = ncrontab("0 12 15W * *").unwrap_err();
        assert!(err.contains("W (nearest weekday)"), "{err}");
        assert!(eventbridge("* * * *").unwrap_err().contains("found 4"));
    }
}
