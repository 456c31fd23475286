"""What the `keras-bert` commands show on the console: progress, not TensorFlow's start-up noise.

`configure()` runs before TensorFlow is imported. TensorFlow's C++ libraries
log at load time through their own copies of absl, before any log level is
read (the oneDNN, CUDA and CPU-feature banners, twice), so the import itself
runs with stderr captured and only lines that are not routine INFO/WARNING
start-up messages are passed on. Later C++ messages (`failed call to cuInit`,
`oneDNN supports DT_INT64 only ...`) are ERROR-level and silenced by
TF_CPP_MIN_LOG_LEVEL=3; TensorFlow's Python logger is set to ERROR (tf.function
retracing notes). `--verbose` leaves all of it as TensorFlow sets it.
"""

import os
import re
import sys
import tempfile

# Routine lines TensorFlow prints to stderr while loading: absl's pre-init banner, INFO/WARNING
# records ("I0000 00:00:... port.cc:153] oneDNN custom operations are on ..."), and the
# continuation line of the CPU-feature record.
_STARTUP_NOISE = re.compile(r"(WARNING: All log messages before absl::InitializeLog\(\)|[IW]\d{4} |"
                            r"To enable the following instructions:)")

verbose = False


def configure(verbose_output=False):
    """Sets the log levels, then imports TensorFlow quietly (unless `verbose_output`)."""
    global verbose
    verbose = bool(verbose_output)
    if verbose:
        return
    # setdefault: a level the user exported still wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import_tensorflow_quietly()
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def import_tensorflow_quietly():
    """Imports TensorFlow with its load-time banners dropped; anything else it prints is passed on."""
    if "tensorflow" in sys.modules:
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr file descriptor: import as is
        import tensorflow  # noqa: F401
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _STARTUP_NOISE.match(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def interactive():
    """True when stdout is a terminal (a live progress bar can redraw itself there)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def progress_verbosity():
    """Keras' `verbose` for fit/evaluate: a live bar with ETA on a terminal, one line per epoch otherwise
    (a redrawn bar becomes thousands of lines in a log file)."""
    return 1 if interactive() else 2


def log(message):
    """Prints one line of a command's output at once (it may be piped to a file while the run goes on)."""
    print(message, flush=True)
