use shush::Engine;
use shush::redact::*;
fn main() {
    let engine = Engine::builtin().unwrap();
    let plan = Plan::new(&engine);
    let mut r = Redactor::new(&engine, &plan, RedactOptions::new(Masker::with_key(MaskStyle::Label,[0;32])));
    let mut out = Vec::new();
    r.push(b"Continue? [y/N] ", &mut out).unwrap();
    r.release_idle(&mut out).unwrap();
    println!("{:?}", String::from_utf8_lossy(&out));
}
