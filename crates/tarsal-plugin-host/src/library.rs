//! Loading plugins: file checks, interface check before compiling, compile
//! (with a deadline) or cache, the plugin's description; who may use which
//! id; and the set of programs the engine may start.

use crate::bindings::{Plugin, PluginPre};
use crate::cache::{CompileCache, sha256_hex};
use crate::files::{ReadError, plugin_files, read_plugin, shown};
use crate::host::{CallKind, HostState};
use crate::manifest::BundleManifest;
use crate::precheck::{SurfaceProblem, surface};
use crate::program::{WasmProgram, arm, call_error};
use crate::{INTERFACE_PACKAGE, INTERFACE_VERSION, Limits, convert, epoch};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};
use tarsal_core::builtin::BuiltinCatalog;
use tarsal_core::config_file::human_duration;
use tarsal_core::program::{CatalogError, CatalogProblem, Program, ProgramCatalog, ProgramInfo};
use tarsal_core::session::SessionOptions;
use tarsal_core::text::one_line;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

/// Why a plugin file was not loaded. The message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("it is not a WebAssembly file")]
    NotWasm,
    #[error("it is a core WebAssembly module, not a component; build it with `cargo tarsal build`")]
    CoreModule,
    #[error("it is not a readable WebAssembly component: {0}")]
    Unreadable(String),
    #[error(
        "it was built for {found}; this Tarsal speaks {INTERFACE_PACKAGE} {}.{}.x — rebuild it with a matching tarsal-sdk",
        INTERFACE_VERSION.0, INTERFACE_VERSION.1
    )]
    WrongInterface { found: String },
    #[error(
        "it does not export {INTERFACE_PACKAGE}/program; is it a Tarsal program? (exports: {exports})"
    )]
    NotAProgram { exports: String },
    #[error(
        "it imports what Tarsal does not offer: {} ({} in all). A program gets only \
         {INTERFACE_PACKAGE}'s `host` interface — no files, network, clock or WASI; \
         build it for wasm32-unknown-unknown against tarsal-sdk (`cargo tarsal build`)",
        .imports.join(", "), .imports.len()
    )]
    ForeignImports { imports: Vec<String> },
    #[error("compiling it took longer than {}, the most allowed", human_duration(*.limit))]
    CompileTimeout { limit: Duration },
    #[error("it does not compile: {0}")]
    Compile(String),
    #[error("describing itself failed: {0}")]
    Describe(String),
    #[error("its description is not acceptable: {0}")]
    InvalidInfo(String),
    #[error("program id `{id}` is the built-in demo's")]
    ReservedId { id: String },
    #[error(
        "it calls itself `{id}`, the id of a program shipped with Tarsal ({bundled}), but it is \
         not that program's file (its SHA-256 differs): a program from elsewhere cannot take \
         a bundled program's place"
    )]
    BundledId { id: String, bundled: String },
    #[error(
        "program id `{id}` is claimed by {} files ({}); none of them is loaded until only one is left",
        .files.len(), .files.join(", ")
    )]
    DuplicateId { id: String, files: Vec<String> },
    #[error("loading the programs took longer than {}; this file was not tried", human_duration(*.limit))]
    OutOfTime { limit: Duration },
    #[error("the bundle manifest is not usable, so no file counts as bundled: {0}")]
    Manifest(String),
}

/// A file in the programs directory that did not load.
#[derive(Debug)]
pub struct LoadProblem {
    pub file: PathBuf,
    pub error: LoadError,
}

impl LoadProblem {
    /// The problem as the engine's catalog reports it (text made safe).
    pub fn to_catalog(&self) -> CatalogProblem {
        CatalogProblem {
            file: shown(&self.file),
            reason: one_line(&self.error.to_string(), 1024).into_owned(),
        }
    }
}

impl std::fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.to_catalog();
        write!(f, "{}: {}", p.file, p.reason)
    }
}

/// Where a loaded program came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Shipped with this build: listed in the bundle manifest, checksum matching.
    Bundled,
    /// Installed on the chair from elsewhere.
    Local,
}

/// A plugin ready to start sessions.
#[derive(Clone)]
pub struct LoadedPlugin {
    pub file: PathBuf,
    pub info: Arc<ProgramInfo>,
    /// The `tarsal:program` version it was built for.
    pub interface_version: String,
    pub sha256: String,
    /// Loaded from the compile cache rather than compiled.
    pub from_cache: bool,
    pub origin: Origin,
    component: Component,
    pre: PluginPre<HostState>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("file", &self.file)
            .field("id", &self.info.id)
            .field("interface_version", &self.interface_version)
            .field("origin", &self.origin)
            .finish()
    }
}

/// What loading a directory gave.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub plugins: Vec<LoadedPlugin>,
    pub problems: Vec<LoadProblem>,
}

/// The directories programs come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramSources {
    /// The programs shipped with the service, with their bundle manifest.
    pub bundled: PathBuf,
    /// Programs installed on this chair (never allowed a bundled id).
    pub local: Option<PathBuf>,
}

/// Loads and instantiates plugins. Cheap to clone and usable from any thread,
/// so compiling can happen away from the control loop.
#[derive(Clone)]
pub struct Library {
    engine: Engine,
    linker: Arc<Linker<HostState>>,
    cache: Option<Arc<CompileCache>>,
    limits: Limits,
}

impl Library {
    /// `cache_dir`: where compiled plugins are kept (none: compile every time).
    pub fn new(limits: Limits, cache_dir: Option<PathBuf>) -> Result<Self, LoadError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| LoadError::Compile(e.to_string()))?;
        epoch::register(&engine);
        let mut linker = Linker::new(&engine);
        crate::host::add_to_linker(&mut linker).map_err(|e| LoadError::Compile(e.to_string()))?;
        Ok(Self {
            engine,
            linker: Arc::new(linker),
            cache: cache_dir.map(|d| Arc::new(CompileCache::new(d))),
            limits,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Every `*.wasm` file in `dir`, as the bundled directory of
    /// [`Library::load_sources`], without a deadline.
    pub fn load_dir(&self, dir: &Path) -> LoadReport {
        self.load_sources(
            &ProgramSources {
                bundled: dir.to_path_buf(),
                local: None,
            },
            None,
        )
    }

    /// Loads every `*.wasm` file of the bundled directory, then of the
    /// local one, in name order. Files not reached before `time` has passed
    /// are not tried. Afterwards:
    /// - a file with the id of a bundled program loads only if it is that
    ///   program's shipped file (the bundle manifest's checksum);
    /// - when several files claim one id, none of them loads;
    /// - the compile cache keeps exactly the loaded plugins.
    ///
    /// A missing directory is logged, not a failure: the service runs with
    /// its built-in programs.
    pub fn load_sources(&self, sources: &ProgramSources, time: Option<Duration>) -> LoadReport {
        let started = Instant::now();
        let mut report = LoadReport::default();
        let manifest = match BundleManifest::read(&sources.bundled) {
            Ok(m) => m,
            Err(e) => {
                report.problems.push(LoadProblem {
                    file: sources.bundled.join(crate::BUNDLE_MANIFEST),
                    error: LoadError::Manifest(e.to_string()),
                });
                BundleManifest::default()
            }
        };
        let mut candidates = Vec::new();
        let dirs = std::iter::once(&sources.bundled).chain(sources.local.as_ref());
        for dir in dirs {
            let files = match plugin_files(dir) {
                Ok(f) => f,
                // A directory that is not there holds no programs: a
                // matter of configuration, for the log.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(dir = %shown(dir), "the programs directory does not exist");
                    continue;
                }
                Err(e) => {
                    report.problems.push(LoadProblem {
                        file: dir.clone(),
                        error: LoadError::Read(ReadError::Io(e)),
                    });
                    continue;
                }
            };
            for file in files {
                if let Some(limit) = time
                    && started.elapsed() >= limit
                {
                    report.problems.push(LoadProblem {
                        file,
                        error: LoadError::OutOfTime { limit },
                    });
                    continue;
                }
                match self.load_file(&file) {
                    Ok(plugin) => candidates.push(plugin),
                    Err(error) => report.problems.push(LoadProblem { file, error }),
                }
            }
        }

        // Bundled ids belong to the shipped files; the demo's to the service.
        let mut admitted = Vec::new();
        for mut plugin in candidates {
            let id = plugin.info.id.clone();
            if id == tarsal_core::builtin::DEMO_ID {
                report.problems.push(LoadProblem {
                    file: plugin.file,
                    error: LoadError::ReservedId { id },
                });
                continue;
            }
            match manifest.get(&id) {
                Some(b) if b.sha256 == plugin.sha256 => plugin.origin = Origin::Bundled,
                Some(b) => {
                    report.problems.push(LoadProblem {
                        file: plugin.file,
                        error: LoadError::BundledId {
                            id,
                            bundled: b.file.clone(),
                        },
                    });
                    continue;
                }
                None => plugin.origin = Origin::Local,
            }
            admitted.push(plugin);
        }
        // One id, one file: when several claim it, none is trusted with it.
        for plugin in admitted.iter() {
            let claimants: Vec<&LoadedPlugin> = admitted
                .iter()
                .filter(|p| p.info.id == plugin.info.id)
                .collect();
            if claimants.len() > 1 {
                report.problems.push(LoadProblem {
                    file: plugin.file.clone(),
                    error: LoadError::DuplicateId {
                        id: plugin.info.id.clone(),
                        files: claimants.iter().map(|p| shown(&p.file)).collect(),
                    },
                });
            }
        }
        let duplicated: Vec<String> = report
            .problems
            .iter()
            .filter_map(|p| match &p.error {
                LoadError::DuplicateId { id, .. } => Some(id.clone()),
                _ => None,
            })
            .collect();
        admitted.retain(|p| !duplicated.contains(&p.info.id));
        report.plugins = admitted;
        self.update_cache(&report.plugins);
        report
    }

    /// Stores the newly compiled plugins in the cache (within its size
    /// bound) and removes every other entry.
    fn update_cache(&self, plugins: &[LoadedPlugin]) {
        let Some(cache) = &self.cache else { return };
        for p in plugins.iter().filter(|p| !p.from_cache) {
            match cache.store(
                &self.engine,
                &p.sha256,
                &p.component,
                self.limits.cache_bytes,
            ) {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    program = %p.info.id,
                    max_mib = self.limits.cache_bytes >> 20,
                    "the compile cache is full; this program will be compiled again at the next start"
                ),
                Err(e) => {
                    tracing::warn!(dir = %cache.dir().display(), error = %e, "cannot write the compile cache")
                }
            }
        }
        let keep: Vec<&str> = plugins.iter().map(|p| p.sha256.as_str()).collect();
        match cache.prune(&self.engine, &keep) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                removed = n,
                "compile cache entries of programs no longer present removed"
            ),
            Err(e) => {
                tracing::warn!(dir = %cache.dir().display(), error = %e, "cannot tidy the compile cache")
            }
        }
    }

    /// Loads one file (a regular file, read through the size limit).
    pub fn load_file(&self, file: &Path) -> Result<LoadedPlugin, LoadError> {
        let bytes = read_plugin(file, self.limits.file_bytes)?;
        self.load_bytes(file, &bytes)
    }

    pub fn load_bytes(&self, file: &Path, bytes: &[u8]) -> Result<LoadedPlugin, LoadError> {
        match bytes.get(..8) {
            Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => return Err(LoadError::CoreModule),
            Some([0, b'a', b's', b'm', _, _, 1, 0]) => {}
            _ => return Err(LoadError::NotWasm),
        }
        // Before any compiling: does it fit the interface at all?
        let interface_version = surface(bytes)
            .map_err(LoadError::Unreadable)?
            .check()
            .map_err(|p| match p {
                SurfaceProblem::Foreign(imports) => LoadError::ForeignImports {
                    imports: imports
                        .iter()
                        .map(|i| one_line(i, 120).into_owned())
                        .collect(),
                },
                SurfaceProblem::WrongInterface(found) => LoadError::WrongInterface {
                    found: one_line(&found, 120).into_owned(),
                },
                SurfaceProblem::NotAProgram(exports) => LoadError::NotAProgram {
                    exports: if exports.is_empty() {
                        "nothing".into()
                    } else {
                        one_line(&exports.join(", "), 400).into_owned()
                    },
                },
            })?;
        let sha256 = sha256_hex(bytes);
        let cached = self
            .cache
            .as_ref()
            .and_then(|c| c.load(&self.engine, &sha256));
        let from_cache = cached.is_some();
        let component = match cached {
            Some(c) => c,
            None => self.compile(bytes)?,
        };
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        let pre = PluginPre::new(instance_pre).map_err(|e| LoadError::Compile(format!("{e:#}")))?;

        let name = file
            .file_stem()
            .map_or_else(|| "plugin".to_owned(), |s| s.to_string_lossy().into_owned());
        let (mut store, plugin) = self
            .instance(&pre, one_line(&name, 64).as_ref().into())
            .map_err(|e| LoadError::Describe(e.message))?;
        arm(&mut store, CallKind::Describe).map_err(|e| LoadError::Describe(e.message))?;
        let info = plugin
            .tarsal_program_program()
            .call_describe(&mut store)
            .map_err(|e| LoadError::Describe(call_error(&store, &self.limits, e).to_string()))?;
        let size = convert::info_size(&info);
        if size > self.limits.describe_bytes {
            return Err(LoadError::InvalidInfo(format!(
                "it is {size} bytes of text; allowed: at most {} bytes",
                self.limits.describe_bytes
            )));
        }
        let info = convert::program_info(info).map_err(LoadError::InvalidInfo)?;
        Ok(LoadedPlugin {
            file: file.to_path_buf(),
            info: Arc::new(info),
            interface_version,
            sha256,
            from_cache,
            origin: Origin::Local,
            component,
            pre,
        })
    }

    /// Compiles on a thread of its own, waiting at most the compile time: a
    /// file that takes longer is refused (its thread finishes in the
    /// background and its result is dropped).
    fn compile(&self, bytes: &[u8]) -> Result<Component, LoadError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let engine = self.engine.clone();
        let owned = bytes.to_vec();
        std::thread::Builder::new()
            .name("tarsal-compile".into())
            .spawn(move || {
                let _ = tx.send(Component::new(&engine, &owned));
            })
            .map_err(|e| LoadError::Compile(format!("cannot start the compiler: {e}")))?;
        match rx.recv_timeout(self.limits.compile_time) {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(LoadError::Compile(
                one_line(&format!("{e:#}"), 2048).into_owned(),
            )),
            Err(RecvTimeoutError::Timeout) => Err(LoadError::CompileTimeout {
                limit: self.limits.compile_time,
            }),
            Err(RecvTimeoutError::Disconnected) => Err(LoadError::Compile(
                "the compiler stopped without an answer".into(),
            )),
        }
    }

    /// A fresh, limited instance.
    fn instance(
        &self,
        pre: &PluginPre<HostState>,
        plugin: Arc<str>,
    ) -> Result<(Store<HostState>, Plugin), tarsal_core::program::ProgramError> {
        let mut store = Store::new(&self.engine, HostState::new(plugin, self.limits));
        store.limiter(|s| s);
        store.epoch_deadline_callback(|mut ctx| {
            ctx.data_mut()
                .deadline_check()
                .map_err(wasmtime::Error::from)
        });
        // Instantiation runs the component's start code: under `start`'s limits.
        arm(&mut store, CallKind::Start)?;
        let plugin = pre
            .instantiate(&mut store)
            .map_err(|e| call_error(&store, &self.limits, e))?;
        Ok((store, plugin))
    }

    /// A new session of `plugin`: a fresh instance, started with `options`.
    pub fn start(
        &self,
        plugin: &LoadedPlugin,
        options: &SessionOptions,
    ) -> Result<WasmProgram, CatalogError> {
        let id = plugin.info.id.clone();
        let failed = |reason: String| CatalogError::Failed {
            id: id.clone(),
            reason,
        };
        let (mut store, instance) = self
            .instance(&plugin.pre, plugin.info.id.as_str().into())
            .map_err(|e| failed(e.to_string()))?;
        arm(&mut store, CallKind::Start).map_err(|e| failed(e.to_string()))?;
        let options = convert::session_options(options);
        match instance
            .tarsal_program_program()
            .call_start(&mut store, &options)
        {
            Ok(Ok(())) => Ok(WasmProgram::new(store, instance)),
            Ok(Err(message)) => Err(CatalogError::Declined {
                id: id.clone(),
                reason: one_line(&message, self.limits.log_line_bytes).into_owned(),
            }),
            Err(e) => Err(failed(call_error(&store, &self.limits, e).to_string())),
        }
    }
}

/// The programs a chair can run: the built-in ones and the loaded plugins.
pub struct ProgramSet {
    library: Library,
    builtin: BuiltinCatalog,
    plugins: Vec<LoadedPlugin>,
    problems: Vec<CatalogProblem>,
    /// The plugins are still being loaded (the service has just started).
    loading: bool,
}

impl ProgramSet {
    pub fn new(library: Library, report: LoadReport) -> Self {
        Self {
            library,
            builtin: BuiltinCatalog::default(),
            plugins: report.plugins,
            problems: report
                .problems
                .iter()
                .map(LoadProblem::to_catalog)
                .collect(),
            loading: false,
        }
    }

    /// The built-in programs only, while the plugins load in the background.
    pub fn loading(library: Library) -> Self {
        Self {
            loading: true,
            ..Self::new(library, LoadReport::default())
        }
    }

    pub fn plugins(&self) -> &[LoadedPlugin] {
        &self.plugins
    }
}

impl ProgramCatalog for ProgramSet {
    fn programs(&self) -> Vec<Arc<ProgramInfo>> {
        let mut all = self.builtin.programs();
        all.extend(self.plugins.iter().map(|p| Arc::clone(&p.info)));
        all
    }

    fn instantiate(
        &mut self,
        id: &str,
        options: &SessionOptions,
    ) -> Result<(Arc<ProgramInfo>, Box<dyn Program>), CatalogError> {
        let Some(plugin) = self.plugins.iter().find(|p| p.info.id == id) else {
            return self.builtin.instantiate(id, options).map_err(|e| match e {
                CatalogError::Unknown { id, .. } => self.unknown(&id),
                other => other,
            });
        };
        let program = self.library.start(plugin, options)?;
        Ok((Arc::clone(&plugin.info), Box::new(program)))
    }

    fn unknown(&self, id: &str) -> CatalogError {
        let mut ids: Vec<String> = self.programs().iter().map(|p| p.id.clone()).collect();
        ids.sort();
        let mut available = ids.join(", ");
        if self.loading {
            available.push_str(" (the other programs are still loading; try again in a moment)");
        }
        if !self.problems.is_empty() {
            let lines: Vec<String> = self
                .problems
                .iter()
                .map(|p| format!("{}: {}", p.file, p.reason))
                .collect();
            available.push_str(&format!(" (not loaded: {})", lines.join("; ")));
        }
        CatalogError::Unknown {
            id: tarsal_core::text::echo(id).into_owned(),
            available,
        }
    }

    fn problems(&self) -> Vec<CatalogProblem> {
        self.problems.clone()
    }

    fn loading(&self) -> bool {
        self.loading
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_are_not_components_are_named_for_what_they_are() {
        let library = Library::new(Limits::default(), None).unwrap();
        let err = library
            .load_bytes(Path::new("x.wasm"), b"hello world")
            .unwrap_err();
        assert!(matches!(err, LoadError::NotWasm), "{err}");
        let core = [0, b'a', b's', b'm', 1, 0, 0, 0];
        let err = library.load_bytes(Path::new("x.wasm"), &core).unwrap_err();
        assert!(err.to_string().contains("cargo tarsal build"), "{err}");
    }

    #[test]
    fn a_component_with_foreign_imports_is_refused_before_it_is_compiled() {
        // A component importing an instance it does not get, with no code:
        // refused by its surface, so nothing compiles and nothing is cached.
        let dir = std::env::temp_dir().join(format!("tarsal-precheck-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let library = Library::new(Limits::default(), Some(dir.clone())).unwrap();
        let component = wat_component_importing(&["wasi:io/poll@0.2.9", "wasi:cli/stdout@0.2.9"]);
        let err = library
            .load_bytes(Path::new("py.wasm"), &component)
            .unwrap_err();
        assert!(
            matches!(&err, LoadError::ForeignImports { imports } if imports.len() == 2),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("wasi:io/poll@0.2.9") && text.contains("wasi:cli/stdout@0.2.9"),
            "{text}"
        );
        assert!(!dir.exists(), "nothing may be compiled or cached for it");
    }

    /// A minimal component binary that imports empty instances named `names`.
    fn wat_component_importing(names: &[&str]) -> Vec<u8> {
        // component header, then one type section (an empty instance type)
        // and one import section listing the names.
        let mut out = vec![0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00];
        let type_section = [0x01u8, 0x42, 0x00]; // 1 type: instance with 0 decls
        out.push(7); // component type section id
        out.push(type_section.len() as u8);
        out.extend_from_slice(&type_section);
        let mut imports = vec![names.len() as u8];
        for name in names {
            imports.push(0x00); // plain name
            imports.push(name.len() as u8);
            imports.extend_from_slice(name.as_bytes());
            imports.extend_from_slice(&[0x05, 0x00]); // instance of type 0
        }
        out.push(10); // component import section id
        out.push(imports.len() as u8);
        out.extend_from_slice(&imports);
        out
    }
}
