//! Process hygiene for a tool that holds secrets in memory: no core dumps, and (on Linux) not
//! dumpable, so neither a crash nor another process of the same user can read a value out of it.

/// Turns off core dumps and ptrace-style access by same-user processes. Best effort: a platform
/// without these calls keeps its defaults.
pub fn no_core_dumps() {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; RLIMIT_CORE 0 only lowers a limit.
        let _ = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_DUMPABLE takes one integer argument and changes only this process.
        let _ = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    }
}

/// Whether the process may dump core (for the test).
pub fn core_dumps_allowed() -> bool {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut lim) } == 0;
        #[cfg(target_os = "linux")]
        {
            // SAFETY: PR_GET_DUMPABLE takes no pointer arguments.
            let dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) };
            return !(ok && lim.rlim_cur == 0 && dumpable == 0);
        }
        #[allow(unreachable_code)]
        return !(ok && lim.rlim_cur == 0);
    }
    #[allow(unreachable_code)]
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn after_it_nothing_dumps_core() {
        super::no_core_dumps();
        assert!(!super::core_dumps_allowed());
    }
}
