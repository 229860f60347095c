use fnsdk::{Request, function};

struct App;

impl App {
    #[function]
    fn hello(&self, _req: Request) -> &'static str {
        "hello"
    }
}

fn main() {}
