//! Runs the post-compile pipeline on a component: `process <in.wasm> <out.wasm>`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let raw = std::fs::read(&args[1])?;
    let t = std::time::Instant::now();
    let p = fn_build::process(&raw, &fn_build::ProcessOptions { package: "x".into(), ..Default::default() })?;
    eprintln!("processed in {:?}: {} -> {} bytes, stubbed {:?}", t.elapsed(), raw.len(), p.component.len(), p.stubbed);
    std::fs::write(&args[2], &p.component)?;
    println!("{}", p.report);
    let t = std::time::Instant::now();
    fn_build::contract::check_targets_contract(&p.component)?;
    eprintln!("targets check in {:?}", t.elapsed());
    Ok(())
}
