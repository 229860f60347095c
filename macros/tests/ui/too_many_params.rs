use fnsdk::{Request, function};

#[function]
fn hello(_req: Request, name: String, times: u32) -> String {
    name.repeat(times as usize)
}

fn main() {}
