//! The shape of the code, checked: inside every crate, modules import one
//! another as a tree (no circle), so each can be read and changed from the
//! bottom up (docs/ARCHITECTURE.md). Test code is left out: tests may reach
//! anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's top-level modules and the top-level modules each one uses
/// through `crate::…` paths (nested files count for their top module).
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    collect(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let used = graph.entry(top.clone()).or_default();
        for name in crate_paths(&code_only(&text)) {
            if name != top {
                used.insert(name);
            }
        }
    }
    // Only edges between modules (not to items of the crate root).
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for used in graph.values_mut() {
        used.retain(|m| modules.contains(m));
    }
    graph
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The text without comments and without the unit-test module.
fn code_only(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment after every `crate::`, including each name in a
/// `crate::{a, b::c}` group.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, marker) in code.match_indices("crate::") {
        let rest = &code[at + marker.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                names.push(first_segment(item.trim()));
            }
        } else {
            names.push(first_segment(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// A circle in `graph`, if there is one, as the modules along it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, done, path) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut done, &mut Vec::new()))
}

#[test]
fn modules_inside_every_crate_import_one_another_as_a_tree() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut checked = 0;
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        let graph = module_graph(&src);
        if let Some(circle) = find_circle(&graph) {
            panic!(
                "{}: modules in a circle: {}",
                src.display(),
                circle.join(" → ")
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} crates found");
}

#[test]
fn the_check_finds_a_circle_when_there_is_one() {
    let dir = std::env::temp_dir().join(format!("tarsal-arch-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("engine")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod engine;\npub mod event;\n").unwrap();
    std::fs::write(dir.join("event.rs"), "use crate::engine::BathAction;\n").unwrap();
    std::fs::write(
        dir.join("engine/manual.rs"),
        "// crate::nothing in a comment\nuse crate::{event::EventKind, units};\n",
    )
    .unwrap();
    std::fs::write(dir.join("engine/mod.rs"), "mod manual;\n").unwrap();
    let graph = module_graph(&dir);
    let circle = find_circle(&graph).expect("engine ↔ event is a circle");
    assert!(circle.contains(&"engine".to_owned()) && circle.contains(&"event".to_owned()));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The service and the SDK agree on the sanitation contract's option key.
#[test]
fn the_service_and_the_sdk_name_the_sanitize_cycle_alike() {
    assert_eq!(
        tarsal_core::sanitation::CYCLE_OPTION,
        tarsal_sdk::sanitation::CYCLE_OPTION
    );
}
