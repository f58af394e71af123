//! The tracing subscriber, driven by runc's flags: `--log FILE`,
//! `--log-format text|json`, `--debug`.
//!
//! Lines have runc's (logrus's) shape, because containerd's shim and
//! podman parse them: JSON `{"level":"error","msg":"…","time":"<RFC 3339>"}`
//! (extra fields become extra keys), or text
//! `time="…" level=error msg="…"`. No thread is ever started here (no
//! non-blocking appender): berth must stay single-threaded to clone.

use std::fmt;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use anyhow::Context;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// logrus text lines.
    #[default]
    Text,
    /// logrus JSON lines.
    Json,
}

/// The fd the subscriber writes to, and whether it is a copy of berth's
/// stderr (rather than a `--log` file); -1 before [`init`].
static WRITER_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
static WRITER_IS_STDERR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The fd log lines are written to, and whether it is a copy of berth's
/// stderr. init keeps that fd open (closing it would let a later file
/// reuse the number and receive log lines) but may point it elsewhere.
pub fn writer_fd() -> Option<(std::os::fd::RawFd, bool)> {
    use std::sync::atomic::Ordering;
    let fd = WRITER_FD.load(Ordering::Relaxed);
    (fd >= 0).then(|| (fd, WRITER_IS_STDERR.load(Ordering::Relaxed)))
}

fn remember_writer(fd: &impl std::os::fd::AsRawFd, is_stderr: bool) {
    use std::sync::atomic::Ordering;
    WRITER_FD.store(fd.as_raw_fd(), Ordering::Relaxed);
    WRITER_IS_STDERR.store(is_stderr, Ordering::Relaxed);
}

/// Installs the global subscriber. Returns whether logs go to a file (then
/// `main` also logs the final error there, for containerd to read).
pub fn init(log: Option<&Path>, format: LogFormat, debug: bool) -> anyhow::Result<bool> {
    let level = if debug { Level::DEBUG } else { Level::WARN };
    let fmt = RuncFormat {
        json: format == LogFormat::Json,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .event_format(fmt);
    match log {
        Some(path) => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o644)
                .custom_flags(libc::O_CLOEXEC)
                .open(path)
                .with_context(|| format!("open log file {}", path.display()))?;
            remember_writer(&file, false);
            builder.with_writer(Mutex::new(file)).init();
            Ok(true)
        }
        None => {
            // A close-on-exec copy of stderr, not fd 2 itself: init later
            // points fd 2 at the container's terminal, and its log lines
            // must still reach the stderr berth was started with.
            use std::os::fd::AsFd;
            let stderr = std::io::stderr()
                .as_fd()
                .try_clone_to_owned()
                .context("dup stderr")?;
            remember_writer(&stderr, true);
            builder
                .with_writer(Mutex::new(std::fs::File::from(stderr)))
                .init();
            Ok(false)
        }
    }
}

/// logrus-shaped lines.
struct RuncFormat {
    json: bool,
}

#[derive(Default)]
struct Fields {
    msg: String,
    extra: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.msg = value;
        } else {
            self.extra.push((field.name(), value));
        }
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

impl<S, N> FormatEvent<S, N> for RuncFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = level_name(*event.metadata().level());
        let time = humantime::format_rfc3339_nanos(SystemTime::now()).to_string();
        writeln!(writer, "{}", render(self.json, level, &time, &fields))
    }
}

fn render(json: bool, level: &str, time: &str, fields: &Fields) -> String {
    if json {
        let mut map = serde_json::Map::new();
        map.insert("level".into(), level.into());
        map.insert("msg".into(), fields.msg.clone().into());
        map.insert("time".into(), time.into());
        for (k, v) in &fields.extra {
            map.insert((*k).to_string(), v.clone().into());
        }
        serde_json::Value::Object(map).to_string()
    } else {
        let quote = |s: &str| serde_json::Value::from(s).to_string();
        let mut line = format!(
            "time={} level={level} msg={}",
            quote(time),
            quote(&fields.msg)
        );
        for (k, v) in &fields.extra {
            line.push_str(&format!(" {k}={}", quote(v)));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_have_runc_keys() {
        let fields = Fields {
            msg: "container c1: exec \"x\"".into(),
            extra: vec![("pid", "42".into())],
        };
        let line = render(true, "error", "2026-11-23T21:54:33Z", &fields);
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "container c1: exec \"x\"");
        assert_eq!(v["time"], "2026-11-23T21:54:33Z");
        assert_eq!(v["pid"], "42");
    }

    #[test]
    fn text_lines_quote_values() {
        let fields = Fields {
            msg: "a \"b\"".into(),
            extra: vec![],
        };
        assert_eq!(
            render(false, "warning", "T", &fields),
            "time=\"T\" level=warning msg=\"a \\\"b\\\"\""
        );
    }
}
