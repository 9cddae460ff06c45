//! Loading plugins: file checks, interface version, compile or cache, the
//! plugin's description; and the set of programs the engine may start.

use crate::bindings::{Plugin, PluginPre};
use crate::cache::{CompileCache, sha256_hex};
use crate::host::{HostState, truncate};
use crate::program::{WasmProgram, call_error};
use crate::{INTERFACE_PACKAGE, INTERFACE_VERSION, Limits, convert};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tarsal_core::builtin::BuiltinCatalog;
use tarsal_core::program::{CatalogError, Program, ProgramCatalog, ProgramInfo};
use tarsal_core::session::SessionOptions;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

/// Why a plugin file was not loaded. The message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("it is {size} bytes; plugins may be at most {max} bytes")]
    TooLarge { size: u64, max: u64 },
    #[error("it is not a WebAssembly file")]
    NotWasm,
    #[error(
        "it is a core WebAssembly module, not a component; build it with `tarsalctl program build`"
    )]
    CoreModule,
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
        "it imports `{import}`, which Tarsal does not offer (programs get no files, network or clock)"
    )]
    ForeignImport { import: String },
    #[error("it does not compile: {0}")]
    Compile(String),
    #[error("describing itself failed: {0}")]
    Describe(String),
    #[error("its description is not acceptable: {0}")]
    InvalidInfo(String),
    #[error("program id `{id}` is already taken by {other}")]
    DuplicateId { id: String, other: String },
}

/// A file in the programs directory that did not load.
#[derive(Debug)]
pub struct LoadProblem {
    pub file: PathBuf,
    pub error: LoadError,
}

impl std::fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.error)
    }
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
    pre: PluginPre<HostState>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("file", &self.file)
            .field("id", &self.info.id)
            .field("interface_version", &self.interface_version)
            .finish()
    }
}

/// What loading a directory gave.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub plugins: Vec<LoadedPlugin>,
    pub problems: Vec<LoadProblem>,
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
        let engine = Engine::new(&config).map_err(|e| LoadError::Compile(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| LoadError::Compile(e.to_string()))?;
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

    /// Every `*.wasm` file in `dir`, in name order. A missing directory is a
    /// problem, not a failure: the service runs with its built-in programs.
    pub fn load_dir(&self, dir: &Path) -> LoadReport {
        let mut report = LoadReport::default();
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
                .collect(),
            Err(e) => {
                report.problems.push(LoadProblem {
                    file: dir.to_path_buf(),
                    error: LoadError::Io(e),
                });
                return report;
            }
        };
        files.sort();
        for file in files {
            match self.load_file(&file) {
                Ok(plugin) => {
                    let taken = report
                        .plugins
                        .iter()
                        .find(|p| p.info.id == plugin.info.id)
                        .map(|p| p.file.display().to_string())
                        .or_else(|| {
                            (plugin.info.id == tarsal_core::builtin::DEMO_ID)
                                .then(|| "the built-in demo".into())
                        });
                    match taken {
                        Some(other) => report.problems.push(LoadProblem {
                            file,
                            error: LoadError::DuplicateId {
                                id: plugin.info.id.clone(),
                                other,
                            },
                        }),
                        None => report.plugins.push(plugin),
                    }
                }
                Err(error) => report.problems.push(LoadProblem { file, error }),
            }
        }
        report
    }

    pub fn load_file(&self, file: &Path) -> Result<LoadedPlugin, LoadError> {
        let size = std::fs::metadata(file)?.len();
        if size > self.limits.file_bytes {
            return Err(LoadError::TooLarge {
                size,
                max: self.limits.file_bytes,
            });
        }
        let bytes = std::fs::read(file)?;
        self.load_bytes(file, &bytes)
    }

    pub fn load_bytes(&self, file: &Path, bytes: &[u8]) -> Result<LoadedPlugin, LoadError> {
        match bytes.get(..8) {
            Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => return Err(LoadError::CoreModule),
            Some([0, b'a', b's', b'm', _, _, 1, 0]) => {}
            _ => return Err(LoadError::NotWasm),
        }
        let sha256 = sha256_hex(bytes);
        let cached = self
            .cache
            .as_ref()
            .and_then(|c| c.load(&self.engine, &sha256));
        let from_cache = cached.is_some();
        let component = match cached {
            Some(c) => c,
            None => {
                let c = Component::new(&self.engine, bytes)
                    .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
                if let Some(cache) = &self.cache
                    && let Err(e) = cache.store(&self.engine, &sha256, &c)
                {
                    tracing::warn!(dir = %cache.dir().display(), error = %e, "cannot write the compile cache");
                }
                c
            }
        };
        let interface_version = self.check_interface(&component)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        let pre = PluginPre::new(instance_pre).map_err(|e| LoadError::Compile(format!("{e:#}")))?;

        let name = file
            .file_stem()
            .map_or_else(|| "plugin".to_owned(), |s| s.to_string_lossy().into_owned());
        let (mut store, plugin) = self
            .instance(&pre, name.into())
            .map_err(|e| LoadError::Describe(e.message))?;
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
            pre,
        })
    }

    /// Checks the component's imports and exports against the interface this
    /// host speaks; returns the version it was built for.
    fn check_interface(&self, component: &Component) -> Result<String, LoadError> {
        let ty = component.component_type();
        for (name, _) in ty.imports(&self.engine) {
            match parse_interface(name) {
                Some((package, _, version)) if package == INTERFACE_PACKAGE => {
                    if !compatible(version) {
                        return Err(LoadError::WrongInterface {
                            found: format!("{INTERFACE_PACKAGE} {version}"),
                        });
                    }
                }
                _ => {
                    return Err(LoadError::ForeignImport {
                        import: name.to_owned(),
                    });
                }
            }
        }
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        let program = exports.iter().find_map(|n| {
            parse_interface(n).filter(|(p, i, _)| *p == INTERFACE_PACKAGE && *i == "program")
        });
        match program {
            Some((_, _, version)) if compatible(version) => Ok(version.to_owned()),
            Some((_, _, version)) => Err(LoadError::WrongInterface {
                found: format!("{INTERFACE_PACKAGE} {version}"),
            }),
            None => Err(LoadError::NotAProgram {
                exports: if exports.is_empty() {
                    "nothing".into()
                } else {
                    exports.join(", ")
                },
            }),
        }
    }

    /// A fresh, limited instance.
    fn instance(
        &self,
        pre: &PluginPre<HostState>,
        plugin: Arc<str>,
    ) -> Result<(Store<HostState>, Plugin), tarsal_core::program::ProgramError> {
        let mut store = Store::new(&self.engine, HostState::new(plugin, self.limits.clone()));
        store.limiter(|s| s);
        store
            .set_fuel(self.limits.call_fuel)
            .map_err(|e| call_error(&store, &self.limits, e))?;
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
        store.data_mut().begin_call();
        let options = convert::session_options(options);
        match instance
            .tarsal_program_program()
            .call_start(&mut store, &options)
        {
            Ok(Ok(())) => Ok(WasmProgram::new(store, instance)),
            Ok(Err(message)) => Err(CatalogError::Declined {
                id: id.clone(),
                reason: truncate(&message, self.limits.log_line_bytes).into_owned(),
            }),
            Err(e) => Err(failed(call_error(&store, &self.limits, e).to_string())),
        }
    }
}

/// `tarsal:program/program@0.1.0` → (`tarsal:program`, `program`, `0.1.0`).
fn parse_interface(name: &str) -> Option<(&str, &str, &str)> {
    let (path, version) = name.split_once('@')?;
    let (package, interface) = path.split_once('/')?;
    Some((package, interface, version))
}

/// Same major version (for 0.x, same minor).
fn compatible(version: &str) -> bool {
    let mut parts = version
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u64>().ok());
    let (Some(Some(major)), Some(Some(minor))) = (parts.next(), parts.next()) else {
        return false;
    };
    let (host_major, host_minor, _) = INTERFACE_VERSION;
    major == host_major && (major != 0 || minor == host_minor)
}

/// The programs a chair can run: the built-in ones and the loaded plugins.
pub struct ProgramSet {
    library: Library,
    builtin: BuiltinCatalog,
    plugins: Vec<LoadedPlugin>,
    problems: Vec<String>,
}

impl ProgramSet {
    pub fn new(library: Library, report: LoadReport) -> Self {
        Self {
            library,
            builtin: BuiltinCatalog::default(),
            plugins: report.plugins,
            problems: report.problems.iter().map(ToString::to_string).collect(),
        }
    }

    pub fn plugins(&self) -> &[LoadedPlugin] {
        &self.plugins
    }

    /// Files that did not load, with the reason.
    pub fn problems(&self) -> &[String] {
        &self.problems
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
                CatalogError::Unknown { id, .. } => {
                    let mut available: Vec<String> =
                        self.programs().iter().map(|p| p.id.clone()).collect();
                    available.sort();
                    let mut available = available.join(", ");
                    if !self.problems.is_empty() {
                        available.push_str(&format!(" (not loaded: {})", self.problems.join("; ")));
                    }
                    CatalogError::Unknown { id, available }
                }
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
        if !self.problems.is_empty() {
            available.push_str(&format!(" (not loaded: {})", self.problems.join("; ")));
        }
        CatalogError::Unknown {
            id: id.to_owned(),
            available,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_compatible_within_a_minor_for_zero_majors() {
        assert!(compatible("0.1.0"));
        assert!(compatible("0.1.7"));
        assert!(!compatible("0.2.0"));
        assert!(!compatible("1.1.0"));
        assert!(!compatible("2.0.0"));
        assert!(!compatible("garbage"));
    }

    #[test]
    fn interface_names_are_parsed() {
        assert_eq!(
            parse_interface("tarsal:program/program@0.1.0"),
            Some(("tarsal:program", "program", "0.1.0"))
        );
        assert_eq!(parse_interface("wasi:cli/stdout"), None);
    }

    #[test]
    fn files_that_are_not_components_are_named_for_what_they_are() {
        let library = Library::new(Limits::default(), None).unwrap();
        let err = library
            .load_bytes(Path::new("x.wasm"), b"hello world")
            .unwrap_err();
        assert!(matches!(err, LoadError::NotWasm), "{err}");
        let core = [0, b'a', b's', b'm', 1, 0, 0, 0];
        let err = library.load_bytes(Path::new("x.wasm"), &core).unwrap_err();
        assert!(err.to_string().contains("tarsalctl program build"), "{err}");
    }
}
