//! The SDK for Tarsal massage programs.
//!
//! A program is a Rust crate built as a WebAssembly component for the
//! `tarsal:program` world (`wit/program.wit` in the Tarsal repository). This
//! crate gives it:
//!
//! - the generated types ([`Request`], [`TickInput`], [`ProgramInfo`] …);
//! - the [`Program`] trait and [`export_program!`], which turn a Rust type into
//!   the plugin's exports, and [`TimelineProgram`] for the usual program that
//!   is one timeline;
//! - [`contraindications`]: the shared wording of the conditions staff check,
//!   with its translations;
//! - [`timeline`]: steps of strokes, kneading, point holds, calf waves, heat and
//!   bath phases, run by a [`timeline::Runner`] that keeps every request inside
//!   the chair's limits (so the supervisor never has to clamp);
//! - [`testing`]: a small chair model to unit-test a program natively with
//!   plain `cargo test`;
//! - [`log`], which reaches the service log from inside the sandbox.
//!
//! ```
//! use tarsal_sdk::prelude::*;
//!
//! fn timeline() -> Timeline {
//!     Timeline::new(vec![
//!         Step::new("Warm-up strokes", Duration::from_secs(60))
//!             .feet(Feet::strokes(FRONT, BACK, Pressure::share(0.3), 0.5)),
//!         Step::new("Calf wave", Duration::from_secs(60)).calves(Calves::wave(
//!             Pressure::share(0.5),
//!             Duration::from_secs(2),
//!             Duration::from_secs(3),
//!             Duration::from_secs(2),
//!         )),
//!     ])
//! }
//!
//! struct MyProgram;
//!
//! impl TimelineProgram for MyProgram {
//!     fn describe() -> ProgramInfo {
//!         ProgramInfo {
//!             uses: Equipment { foot_rollers: true, calf_units: true, ..NOTHING },
//!             ..described("my-program", "My program", "Strokes and a calf wave.", "1.0.0", &timeline())
//!         }
//!     }
//!     fn timeline(_options: &SessionOptions) -> Result<Timeline, String> {
//!         Ok(timeline())
//!     }
//! }
//!
//! tarsal_sdk::export_program!(Timed<MyProgram>);
//! # fn main() {
//! #     let bench = tarsal_sdk::testing::Bench::standard();
//! #     let trace = bench.run::<Timed<MyProgram>>(&bench.options(&[])).unwrap();
//! #     assert!(trace.limit_violations().is_empty());
//! # }
//! ```

// Plugin authors read these docs: every public item says what it is.
#![deny(missing_docs)]

// The generated code names this crate by path; this makes the path work here too.
extern crate self as tarsal_sdk;

pub mod contraindications;
pub mod describe;
#[cfg(feature = "engine")]
pub mod native;
pub mod options;
pub mod sanitation;
pub mod testing;
pub mod timeline;
pub mod zones;

#[doc(hidden)]
pub use wit_bindgen;

/// Bindings generated from the `tarsal:program` WIT world. Their
/// documentation is the WIT's (`wit/program.wit`); the generated items carry
/// what it says and no more.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin",
        default_bindings_module: "::tarsal_sdk::bindings",
        runtime_path: "::tarsal_sdk::wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

pub use bindings::tarsal::program::types::{
    BathCommand, CalfCommand, CalfSensors, Choice, ChoiceOption, Equipment, FootCommand,
    FootSensors, HeatCommand, IntegerOption, Limits, LogLevel, NodeMotion, OptionKind,
    OptionSetting, OptionSpec, OptionText, OptionValue, ProgramInfo, Request, Sensors,
    SessionOptions, Status, StepInfo, TickInput, TickOutput, Translation,
};

/// The version of the `tarsal:program` interface this SDK builds against.
pub const INTERFACE_VERSION: &str = "0.2.0";

/// Everything a program usually needs.
pub mod prelude {
    pub use crate::contraindications::Contraindication;
    pub use crate::describe::{
        NOTHING, choice_option, described, minutes_option, steps, texts, translation,
    };
    pub use crate::options::OptionsExt;
    pub use crate::timeline::{Bath, Calves, Feet, Heat, Length, Pressure, Runner, Step, Timeline};
    pub use crate::zones::*;
    pub use crate::{
        Equipment, LogLevel, OptionKind, OptionSpec, Program, ProgramInfo, SessionOptions,
        StepInfo, TickInput, TickOutput, Timed, TimelineProgram, Translation, log,
    };
    pub use std::time::Duration;
}

/// A massage program. One value of it lives for one session.
pub trait Program: Sized + 'static {
    /// Who the program is: id, name, steps, options, contraindications.
    fn describe() -> ProgramInfo;

    /// Begins a session with the options staff chose (every declared option
    /// is present, defaults filled in).
    fn start(options: &SessionOptions) -> Result<Self, String>;

    /// One control-loop tick. An `Err` ends the session with a fault that
    /// shows the message.
    fn tick(&mut self, input: &TickInput) -> Result<TickOutput, String>;
}

/// A program that is one [`Timeline`](timeline::Timeline), as most are: it
/// describes itself and builds its timeline from the session's options, and
/// [`Timed`] runs it. Export it with `export_program!(Timed<MyProgram>)`.
pub trait TimelineProgram: 'static {
    /// Who the program is: id, name, steps, options, contraindications.
    fn describe() -> ProgramInfo;

    /// The session's timeline for the options staff chose; an `Err` refuses
    /// the start with that message.
    fn timeline(options: &SessionOptions) -> Result<timeline::Timeline, String>;
}

/// Runs a [`TimelineProgram`] as a [`Program`]: one [`timeline::Runner`] a
/// session, which keeps every request inside the chair's limits.
pub struct Timed<P> {
    runner: timeline::Runner,
    program: std::marker::PhantomData<fn() -> P>,
}

impl<P: TimelineProgram> Program for Timed<P> {
    fn describe() -> ProgramInfo {
        P::describe()
    }

    fn start(options: &SessionOptions) -> Result<Self, String> {
        Ok(Self {
            runner: timeline::Runner::new(P::timeline(options)?),
            program: std::marker::PhantomData,
        })
    }

    fn tick(&mut self, input: &TickInput) -> Result<TickOutput, String> {
        Ok(self.runner.tick(input))
    }
}

/// A line in the service log, tagged with the plugin's id. In native builds
/// (unit tests) it goes to standard error.
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    bindings::tarsal::program::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Sends panic messages to the service log; without this a panic inside the
/// sandbox would show only as a bare trap.
#[doc(hidden)]
pub fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            // One line: "panic at src/lib.rs:15:13: the message".
            let text = info
                .to_string()
                .replace("panicked at ", "")
                .replace('\n', " ");
            log(LogLevel::Error, &format!("panic at {text}"));
        }));
    });
}

/// Makes `$program` (a type implementing [`Program`]) the plugin's exports.
/// Use it once, at the top level of the plugin crate.
#[macro_export]
macro_rules! export_program {
    ($program:ty) => {
        #[doc(hidden)]
        pub struct __TarsalPlugin;

        ::std::thread_local! {
            static __TARSAL_SESSION: ::std::cell::RefCell<::std::option::Option<$program>> =
                const { ::std::cell::RefCell::new(::std::option::Option::None) };
        }

        impl $crate::bindings::exports::tarsal::program::program::Guest for __TarsalPlugin {
            fn describe() -> $crate::ProgramInfo {
                $crate::install_panic_hook();
                <$program as $crate::Program>::describe()
            }

            fn start(options: $crate::SessionOptions) -> ::std::result::Result<(), ::std::string::String> {
                $crate::install_panic_hook();
                let program = <$program as $crate::Program>::start(&options)?;
                __TARSAL_SESSION.with(|s| *s.borrow_mut() = ::std::option::Option::Some(program));
                ::std::result::Result::Ok(())
            }

            fn tick(input: $crate::TickInput) -> ::std::result::Result<$crate::TickOutput, ::std::string::String> {
                __TARSAL_SESSION.with(|s| match s.borrow_mut().as_mut() {
                    ::std::option::Option::Some(program) => <$program as $crate::Program>::tick(program, &input),
                    ::std::option::Option::None => ::std::result::Result::Err("tick called before start".into()),
                })
            }
        }

        // The component exports exist only in the WebAssembly build; native
        // builds (unit tests) use the program type directly.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_plugin!(__TarsalPlugin with_types_in $crate::bindings);
    };
}
