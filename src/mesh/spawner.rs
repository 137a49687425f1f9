//! The one long-lived thread that spawns every node and MCP child.
//!
//! Linux delivers `PR_SET_PDEATHSIG` when the *thread* that forked a child exits, not the
//! process. Spawning from tokio's blocking pool would kill nodes whenever an idle worker
//! retires, so all spawns go through this thread, which lives as long as amesh. Each child
//! also gets its own process group, so a Ctrl-C at the terminal reaches amesh only and amesh
//! decides the order of shutdown.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};

type Job = (Command, Sender<io::Result<Child>>);

static SPAWNER: OnceLock<Sender<Job>> = OnceLock::new();

fn spawner() -> &'static Sender<Job> {
    SPAWNER.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        std::thread::Builder::new()
            .name("amesh-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(spawn_here(&mut command));
                }
            })
            .expect("failed to start the spawner thread");
        tx
    })
}

fn spawn_here(command: &mut Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    command.process_group(0);
    // SAFETY: the closure runs in the forked child before exec and calls only
    // async-signal-safe functions (prctl, getppid, _exit).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // amesh may have died between fork and prctl; then nobody would send the signal.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    command.spawn()
}

/// Spawns `command` on the spawner thread and returns the child.
pub fn spawn(command: Command) -> io::Result<Child> {
    let (tx, rx) = channel();
    spawner()
        .send((command, tx))
        .map_err(|_| io::Error::other("the spawner thread has stopped"))?;
    rx.recv().map_err(|_| io::Error::other("the spawner thread has stopped"))?
}
