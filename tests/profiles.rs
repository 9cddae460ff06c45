//! Every chair profile shipped in `deploy/profiles/` must load.

use std::fs;
use tarsal_core::ChairProfile;

#[test]
fn every_shipped_profile_loads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/profiles");
    let mut count = 0;
    for entry in fs::read_dir(dir).expect("deploy/profiles exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = fs::read_to_string(&path).expect("readable profile");
            if let Err(e) = ChairProfile::parse(&path.display().to_string(), &text) {
                panic!("{e}");
            }
            count += 1;
        }
    }
    assert!(count >= 1);
}
