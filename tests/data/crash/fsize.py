"""Run the digest CLI with the file-size limit set to N bytes: a full disk, unprivileged.

usage: fsize.py N ARGS...   SIGXFSZ is ignored, so a write past N bytes fails with EFBIG like ENOSPC would.
"""

import resource
import signal
import sys

from digest.cli import main

limit = int(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.exit(main(sys.argv[2:]))
