use shush::Engine;
use shush::engine::EngineOptions;
use shush::redact::*;
use shush::rules::RuleSet;
fn main() {
    let engine = Engine::new(RuleSet::builtin().unwrap(), EngineOptions { decode_depth: 1, inline_allow: false }).unwrap();
    let plan = Plan::new(&engine);
    let mut n = 0;
    let want: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(222);
    for rule in &engine.rules().rules {
        for ex in &rule.examples {
            if ex.secret().is_some() {
                if n == want {
                    let mut input = b"\n".to_vec(); input.extend_from_slice(ex.text().as_bytes()); input.push(b'\n');
                    let out = redact_all(&engine, &plan, RedactOptions::new(Masker::with_key(MaskStyle::Label,[0;32])), &input).unwrap();
                    println!("rule {} input:\n{}\n---out:\n{}", rule.id, String::from_utf8_lossy(&input), String::from_utf8_lossy(&out));
                    let mut st = engine.new_state();
                    for m in engine.scan_bytes(&mut st, &input, &Default::default()) { println!("match {} {:?} {:?} {:?}", engine.rule(m.rule).id, m.span, m.secret_span, m.decoded); }
                }
                n += 1;
            }
        }
    }
    for (i, r) in engine.rules().rules.iter().enumerate() { let (l, nl) = plan.lead(i); if l > 40 || nl { println!("lead {} {} {}", r.id, l, nl); } }
}
